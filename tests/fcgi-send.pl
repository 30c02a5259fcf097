#!/usr/bin/perl
# tests/fcgi-send.pl SOCKET CASE: talks FastCGI straight to api-pedidos'
# socket, as a hostile web server could, and prints one line about what
# came back (used by tests/hostile.sh):
#
#   status=NNN type=CONTENT-TYPE length=CONTENT-LENGTH end=PROTOCOL-STATUS
#       records=T,T,... body=BODY     (one line; T: the record types seen)
#   closed            the service closed without a record
#   timeout           nothing within 5 s (FCGI_SEND_WAIT; the connection is left)
#
# CASE picks the bytes sent (see %cases below; get:PATH is a GET of
# PATH); after them the write side is shut down, so that a service
# waiting for more sees the end (a half-close: the answer must still
# come). With HOLD (seconds), it is not: the connection stays open and
# silent that long, as a stalled web server's would, then closes
# ("held"). FCGI_SEND_SPLIT=S: the first half of the bytes, S seconds of
# silence, then the rest (FCGI_SEND_READY=FILE: FILE is made once the
# first half is sent). A slow reader: FCGI_SEND_RCVBUF=BYTES (a small
# receive buffer) and FCGI_SEND_READ_AFTER=S (nothing read for S seconds,
# then all of it; the wait for the answer is then S + 15 s). The line
# then says got=N: the bytes of body that came (compare with length=),
# and sent=N: the bytes of the request written before the service
# stopped reading (a 413 is answered without reading the rest), and
# ms=N: from connecting to the answer's end, this script's start left out.
#
# Bodies: post:PATH is a POST of PATH with a body of FCGI_SEND_BODY
# bytes (default 0), sent in FCGI_STDIN records of FCGI_SEND_CHUNK bytes
# (default 65535; 1 for one byte a record). FCGI_SEND_PAUSE=S writes the
# records one at a time, S seconds apart (a web server passing a body
# on slowly). FCGI_SEND_TRUNCATE=N sends only the first N bytes (with
# HOLD: a stall mid-body). FCGI_SEND_BODY_TEXT=TEXT sends TEXT as the
# body instead (FCGI_SEND_BODY is then not needed).
#
# FCGI_SEND_SPLIT_AT=N: split after byte N instead of the half (N < 0:
# |N| bytes before the end). The line says unsent=N: the bytes of the
# request never written (the service closed before they were).
#
# Kept connections (FCGI_KEEP_CONN): FCGI_SEND_KEEP=N sends the bytes N
# times on one connection, each once the answer before it has ended
# (its FCGI_END_REQUEST), FCGI_SEND_IDLE seconds apart (default 0), and
# never shuts its write side down; then waits FCGI_SEND_LINGER seconds
# (default 0.5) for the service to close. The line (about the last
# answer) adds answers=N (ended answers), after=open|closed and
# linger_ms=N (how long until the close, or the whole wait). With
# FCGI_SEND_ANSWERED=FILE, FILE is made once the last answer has ended
# (the connection is idle from then on).
use strict;
use warnings;
use IO::Socket::UNIX;
use IO::Select;
use Time::HiRes qw(time);
use Socket qw(SOL_SOCKET SO_RCVBUF pack_sockaddr_un);

my ($path, $case, $hold) = @ARGV;
die "usage: fcgi-send.pl SOCKET CASE [HOLD]\n" unless defined $case;

# FastCGI record: version, type, request id, content length, padding
sub rec {
    my ($type, $id, $content, $version) = @_;
    my $out = '';
    $content = '' unless defined $content;
    do {
        my $part = substr($content, 0, 65535, '');
        my $pad = (8 - length($part) % 8) % 8;
        $out .= pack('CCnnCC', $version // 1, $type, $id, length($part), $pad, 0)
              . $part . ("\0" x $pad);
    } while (length $content);
    return $out;
}
sub len { my $n = shift; return $n < 128 ? pack('C', $n) : pack('N', $n | 0x80000000); }
sub nv { my ($n, $v) = @_; return len(length $n) . len(length $v) . $n . $v; }
sub begin { my ($id, $role, $flags) = @_; return rec(1, $id // 1, pack('nCx5', $role // 1, $flags // 0)); }
sub params { my $id = shift; my $c = join('', map { nv(@$_) } @_); return rec(4, $id, $c) . rec(4, $id, ''); }
sub stdin { my ($id, $body) = @_; return (length $body ? rec(5, $id, $body) : '') . rec(5, $id, ''); }
# FCGI_STDIN of n bytes in records of $chunk, then its end
sub stdin_chunked { my ($id, $n, $chunk) = @_;
                    my $body = join('', map { chr(48 + $_ % 10) } 0 .. 9) x int($n / 10 + 1);
                    $body = substr($body, 0, $n);
                    $body = $ENV{FCGI_SEND_BODY_TEXT} if defined $ENV{FCGI_SEND_BODY_TEXT};
                    my $out = '';
                    while (length $body) { $out .= rec(5, $id, substr($body, 0, $chunk, '')); }
                    return $out . rec(5, $id, ''); }
sub post { my ($path) = @_;
           return begin(1) . params(1, ['REQUEST_METHOD', 'POST'], ['PATH_INFO', $path],
                                    ['CONTENT_TYPE', 'application/json'])
                  . stdin_chunked(1, $ENV{FCGI_SEND_BODY} // 0, $ENV{FCGI_SEND_CHUNK} // 65535); }
sub get { my ($path, @more) = @_;
          return begin(1) . params(1, ['REQUEST_METHOD', 'GET'], ['PATH_INFO', $path], @more) . stdin(1, ''); }

my %cases = (
    # a well-formed request, to compare with
    health => sub { get('/healthcheck') },
    # CVE-2025-23016: name and value lengths of 0x7fffffff; nameLen +
    # valueLen + 2 wraps to 0 in an unpatched libfcgi, then 64 bytes are
    # written into the 0-byte block
    cve_both_max => sub { begin(1) . rec(4, 1, "\xff\xff\xff\xff\xff\xff\xff\xff" . ('A' x 64)) },
    cve_name_max => sub { begin(1) . rec(4, 1, "\xff\xff\xff\xff\x03" . ('A' x 64)) },
    cve_value_max => sub { begin(1) . rec(4, 1, "\x03\xff\xff\xff\xff" . ('A' x 64)) },
    cve_sum_2g => sub { begin(1) . rec(4, 1, "\xc0\x00\x00\x00\xc0\x00\x00\x00" . ('A' x 64)) },
    # lengths that are valid but far past what is sent
    long_name_short_data => sub { begin(1) . rec(4, 1, "\x80\x10\x00\x00\x01" . ('A' x 64)) },
    length_cut => sub { begin(1) . rec(4, 1, "\x80\x10") },
    # broken framing
    truncated_header => sub { "\x01\x01\x00" },
    version_2 => sub { rec(1, 1, pack('nCx5', 1, 0), 2) . params(1, ['PATH_INFO', '/healthcheck']) . stdin(1, '') },
    params_first => sub { params(1, ['PATH_INFO', '/healthcheck']) . stdin(1, '') },
    begin_only => sub { begin(1) },
    stdin_open => sub { begin(1) . params(1, ['REQUEST_METHOD', 'POST'], ['PATH_INFO', '/healthcheck'])
                        . rec(5, 1, 'abc') },
    no_stdin_end => sub { begin(1) . params(1, ['REQUEST_METHOD', 'GET'], ['PATH_INFO', '/healthcheck']) },
    short_begin => sub { rec(1, 1, "\x00\x01") . params(1, ['PATH_INFO', '/healthcheck']) . stdin(1, '') },
    padding_lie => sub { pack('CCnnCC', 1, 1, 1, 8, 255, 0) . pack('nCx5', 1, 0) },
    # management records (request id 0)
    get_values => sub { rec(9, 0, nv('FCGI_MAX_CONNS', '') . nv('FCGI_MAX_REQS', '') . nv('FCGI_MPXS_CONNS', '')) },
    get_values_junk => sub { rec(9, 0, "\xff\xff\xff\xff\xff\xff\xff\xff") },
    unknown_type => sub { rec(42, 0, 'x' x 8) },
    # odd but well-framed requests
    # roles but the responder (FastCGI 1.0 section 6): an authorizer
    # sends no FCGI_STDIN, a filter FCGI_DATA after it
    role_authorizer => sub { begin(1, 2) . params(1, ['REQUEST_METHOD', 'GET'], ['PATH_INFO', '/healthcheck']) },
    role_filter => sub { begin(1, 3) . params(1, ['REQUEST_METHOD', 'GET'], ['PATH_INFO', '/healthcheck'])
                         . stdin(1, 'in') . rec(8, 1, 'data') . rec(8, 1, '') },
    role_99 => sub { begin(1, 99) . params(1, ['REQUEST_METHOD', 'GET'], ['PATH_INFO', '/healthcheck']) . stdin(1, '') },
    # a second begin with the live request's id
    begin_same_id => sub { begin(1) . begin(1) . params(1, ['REQUEST_METHOD', 'GET'], ['PATH_INFO', '/healthcheck'])
                           . stdin(1, '') },
    # the end of FCGI_STDIN with 8 bytes of padding (split them off with
    # FCGI_SEND_SPLIT_AT=-8)
    stdin_end_padded => sub { begin(1) . params(1, ['REQUEST_METHOD', 'GET'], ['PATH_INFO', '/healthcheck'])
                              . pack('CCnnCC', 1, 5, 1, 0, 8, 0) . ("\0" x 8) },
    # FCGI_KEEP_CONN
    keep_health => sub { begin(1, 1, 1) . params(1, ['REQUEST_METHOD', 'GET'], ['PATH_INFO', '/healthcheck'])
                         . stdin(1, '') },
    keep_abort => sub { begin(1, 1, 1) . rec(2, 1, '') },
    keep_order => sub { begin(1, 1, 1) . params(1, ['REQUEST_METHOD', 'GET'],
                        ['PATH_INFO', '/orders/3f6c2a9e-81d4-4b7a-a5e2-7c9d0b1e4f28/items']) . stdin(1, '') },
    no_params => sub { begin(1) . rec(4, 1, '') . stdin(1, '') },
    no_method => sub { begin(1) . params(1, ['PATH_INFO', '/healthcheck']) . stdin(1, '') },
    empty_name => sub { get('/healthcheck', ['', 'x'], ['=', '='], ['X', '']) },
    nul_in_param => sub { get("/healthcheck\0/x") },
    big_param => sub { get('/healthcheck', ['HTTP_X_BIG', 'b' x 1048576]) },
    param_60k => sub { get('/healthcheck', ['HTTP_X_BIG', 'b' x 61440]) },
    long_path_info => sub { get('/' . ('a' x 102400)) },
    many_params => sub { get('/healthcheck', map { ["HTTP_X_$_", 'v'] } 1 .. 4000) },  # 54 KB
    big_stdin => sub { begin(1) . params(1, ['REQUEST_METHOD', 'POST'], ['PATH_INFO', '/healthcheck'])
                       . stdin(1, 'x' x 204800) },
    multiplexed => sub { begin(1) . begin(2) . params(1, ['REQUEST_METHOD', 'GET'], ['PATH_INFO', '/healthcheck'])
                         . stdin(1, '') },
    abort => sub { begin(1) . rec(2, 1, '') },
    request_id_0 => sub { begin(0) . params(0, ['REQUEST_METHOD', 'GET'], ['PATH_INFO', '/healthcheck']) . stdin(0, '') },
    # a stalled web server: one byte of a request, then nothing
    one_byte => sub { "\x01" },
);
if ($case =~ /^get:(.*)$/s) { my $p = $1; $cases{$case} = sub { get($p) }; }
if ($case =~ /^post:(.*)$/s) { my $p = $1; $cases{$case} = sub { post($p) }; }
die "unknown case $case\n" unless $cases{$case};

$SIG{PIPE} = 'IGNORE';
my $bytes = $cases{$case}->();
$bytes = substr($bytes, 0, $ENV{FCGI_SEND_TRUNCATE}) if defined $ENV{FCGI_SEND_TRUNCATE};
# FCGI_SEND_REPEAT=N: N connections one after the other, the same bytes
# on each; what is printed is about the last one
for (2 .. ($ENV{FCGI_SEND_REPEAT} // 1)) {
    my $r = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $path) or die "connect $path: $!\n";
    print $r $bytes;
    $r->flush;
    shutdown($r, 1);
    1 while sysread($r, my $junk, 65536);
    close $r;
}
my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM()) or die "socket: $!\n";
setsockopt($s, SOL_SOCKET(), SO_RCVBUF(), $ENV{FCGI_SEND_RCVBUF}) or die "rcvbuf: $!\n"
    if $ENV{FCGI_SEND_RCVBUF};
connect($s, pack_sockaddr_un($path)) or die "connect $path: $!\n";
my $t0 = time;
if (defined $hold) {
    print $s $bytes;
    $s->flush;
    sleep $hold;
    close $s;
    print "held\n";
    exit 0;
}
my $sent = 0;
if (my $pause = $ENV{FCGI_SEND_PAUSE}) {
    # one record at a time (bounded by the headers the bytes carry)
    while (length($bytes) >= 8) {
        my ($len, $pad) = unpack('x4nC', $bytes);
        my $rec = substr($bytes, 0, 8 + $len + $pad, '');
        my $n = syswrite($s, $rec);
        last unless defined $n;
        $sent += $n;
        select(undef, undef, undef, $pause) if length $bytes;
    }
}
my $total = length $bytes;
if (my $times = $ENV{FCGI_SEND_KEEP}) {
    keep_conn($s, $bytes, $times);
    exit 0;
}
if (my $split = $ENV{FCGI_SEND_SPLIT}) {
    my $half = int(length($bytes) / 2);
    my $at = $ENV{FCGI_SEND_SPLIT_AT};
    $half = $at < 0 ? length($bytes) + $at : $at if defined $at;
    $sent += syswrite($s, $bytes, $half) // 0;
    if (my $ready = $ENV{FCGI_SEND_READY}) {
        my $f;
        close($f) if open($f, '>', $ready);
    }
    select(undef, undef, undef, $split);
    $bytes = substr($bytes, $half);
}
my $sel = IO::Select->new($s);
my $in = '';
my $off = 0;
# write and read at once: the service may answer (or close) before it
# has read everything
$s->blocking(0);
my $read_after = $ENV{FCGI_SEND_READ_AFTER} // 0;
my $reading = time + $read_after;
my $deadline = time + ($ENV{FCGI_SEND_WAIT} // 5) + ($read_after ? $read_after + 10 : 0);
my ($eof, $wdone) = (0, 0);
while (!$eof && time < $deadline) {
    my $rsel = time >= $reading ? $sel : undef;
    my ($r, $w) = IO::Select->select($rsel, $wdone ? undef : $sel, undef, 0.5);
    if (!$rsel && $wdone && !($w && @$w)) { select(undef, undef, undef, 0.1); next; }
    if ($w && @$w && !$wdone) {
        my $n = syswrite($s, $bytes, 65536, $off);
        if (defined $n) { $off += $n; $sent += $n; }
        if (!defined $n || $off >= length $bytes) { $wdone = 1; shutdown($s, 1); }
    }
    if ($r && @$r) {
        my $n = sysread($s, my $buf, 65536);
        if (!defined $n || $n == 0) { $eof = 1; } else { $in .= $buf; }
    }
}
if (!length $in) { print $eof ? "closed\n" : "timeout\n"; exit 0; }
report($in, sprintf('unsent=%d ', $total - $sent));

# The records of the answer in $in, as one line (see the top); $more
# goes before body=.
sub report {
    my ($in, $more) = @_;
    my (@types, $out, $end);
    $out = '';
    while (length($in) >= 8) {
        my ($v, $t, $id, $len, $pad) = unpack('CCnnC', $in);
        last if length($in) < 8 + $len + $pad;
        my $c = substr($in, 8, $len);
        substr($in, 0, 8 + $len + $pad, '');
        push @types, $t;
        $out .= $c if $t == 6;
        $end = unpack('x4C', $c) if $t == 3 && $len >= 5;
    }
    my ($head, $body) = split(/\r\n\r\n/, $out, 2);
    $head //= '';
    my ($status) = $head =~ /^Status: (\d+)/m;
    my ($type) = $head =~ /^Content-Type: ([^\r\n]*)/m;
    my ($clen) = $head =~ /^Content-Length: (\d+)/m;
    printf "status=%s type=%s length=%s end=%s records=%s got=%d sent=%d ms=%d %sbody=%s\n",
           $status // '-', $type // '-', $clen // '-', $end // '-', join(',', @types),
           length($body // ''), $sent, (time - $t0) * 1000, $more, $body // '';
}

# Reads one answer: the records up to its FCGI_END_REQUEST; undef when
# the connection ended first or nothing came within 5 s.
sub read_answer {
    my ($s) = @_;
    my ($in, $deadline) = ('', time + ($ENV{FCGI_SEND_WAIT} // 5));
    my $sel = IO::Select->new($s);
    while (time < $deadline) {
        my $off = 0;
        while (length($in) - $off >= 8) {
            my ($t, $len, $pad) = unpack('xCx2nC', substr($in, $off, 8));
            last if length($in) - $off < 8 + $len + $pad;
            $off += 8 + $len + $pad;
            return $in if $t == 3;
        }
        next unless $sel->can_read(0.2);
        my $n = sysread($s, my $buf, 65536);
        return undef unless $n;
        $in .= $buf;
    }
    return undef;
}

sub keep_conn {
    my ($s, $bytes, $times) = @_;
    my ($answers, $last) = (0, '');
    for my $i (1 .. $times) {
        select(undef, undef, undef, $ENV{FCGI_SEND_IDLE}) if $i > 1 && $ENV{FCGI_SEND_IDLE};
        my $n = syswrite($s, $bytes);
        last unless defined $n && $n == length $bytes;
        $sent += $n;
        my $a = read_answer($s);
        last unless defined $a;
        ($answers, $last) = ($answers + 1, $a);
    }
    if ($ENV{FCGI_SEND_ANSWERED}) {   # tell a waiting test: now idle
        open(my $mark, '>', $ENV{FCGI_SEND_ANSWERED}) or die "FCGI_SEND_ANSWERED: $!";
        close($mark);
    }
    my $t1 = time;
    my $linger = $ENV{FCGI_SEND_LINGER} // 0.5;
    my $after = 'open';
    while (time < $t1 + $linger) {
        next unless IO::Select->new($s)->can_read($t1 + $linger - time);
        my $n = sysread($s, my $buf, 65536);
        if (!$n) { $after = 'closed'; last; }
    }
    if (!$answers) { print "closed answers=0 after=$after\n"; return; }
    report($last, sprintf('answers=%d after=%s linger_ms=%d ', $answers, $after, (time - $t1) * 1000));
}
