/* intake: has a FastCGI request fully arrived?
 *
 * libfcgi reads a request with blocking reads; a web server that sends
 * part of one and stalls would hold the thread that reads it. So the
 * acceptor looks first, without taking anything (MSG_PEEK), at what the
 * socket holds, and hands a connection to libfcgi only once the request
 * is all there: its FCGI_STDIN stream ended (an empty FCGI_STDIN record).
 * Then every read libfcgi makes returns at
 * once. Bytes that are not FastCGI 1.0 records are "ready" too: libfcgi
 * refuses them without waiting. Pure functions, no I/O. */
#ifndef INTAKE_H
#define INTAKE_H

#include <stddef.h>

/* How much of a request is looked at. A request larger than this (a big
 * body, or params past it) is handed over unfinished, and libfcgi reads
 * the rest with a bounded wait per read (request.h). Small enough to
 * fit in any socket's receive queue. */
#define INTAKE_WINDOW (32 * 1024)

enum intake_state { INTAKE_MORE, INTAKE_READY };

/* What the first len bytes of a connection (len <= INTAKE_WINDOW) say. */
enum intake_state intake_scan(const unsigned char *buf, size_t len);

#endif
