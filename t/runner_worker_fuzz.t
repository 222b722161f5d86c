#!/usr/bin/perl

# The runner's worker side under libFuzzer (t/codec/runner_worker_fuzz.c):
# all of the runner but main, a real socket and event loop, and real
# worker processes (t/codec/fuzz_worker.c, FastCGI and CGI) that answer
# with the fuzzer's bytes: any records, any CGI header block, cut
# anywhere, before or after reading the request, with or without
# exiting. Seeded with well-formed answers and the shapes the protocol
# tests use. It fails on a crash, a sanitizer report, a client left
# without an answer, or a connection, request, held byte or worker left
# behind.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest qw(fcgi_record);
use Test::More;

my $t = FaasTest->new;

sub end_request { fcgi_record(3, $_[0] // 1, pack('NCx3', 0, 0)) }

my $head = "Content-Type: text/plain\r\n\r\n";
my $ok = fcgi_record(6, 1, "${head}hi") . fcgi_record(6, 1, '')
       . end_request();

# byte 0: the client (1 CGI, 2 two requests on a kept connection,
# 4 a body); byte 1: the worker (1 exit after, 2 write first, 4 in
# pieces, 8 linger); then what the worker writes
my @seeds = (
    "\0\0$ok", "\2\0$ok", "\4\0$ok", "\6\4$ok", "\0\1$ok",
    "\1\0${head}hi", "\5\4Status: 404\r\n${head}x" x 3,
    "\1\0Location: /x\r\n\r\n", "\1\1garbage\n\nbody",
    "\0\0" . fcgi_record(7, 1, 'a warning') . $ok,
    "\0\0" . fcgi_record(6, 1, "Status: 204\r\n\r\n") . end_request(),
    "\0\0" . fcgi_record(6, 1, $head) . end_request(2),
    "\0\0" . fcgi_record(6, 1, 'x' x 300) . fcgi_record(6, 1, $head),
    "\0\2" . fcgi_record(10, 0, '') . $ok,
    "\0\x08" . fcgi_record(6, 1, $head),
    "\2\0" . fcgi_record(6, 1, "${head}x") . end_request() . $ok,
);
$t->libfuzzer('runner_worker_fuzz', 20, 20, @seeds);

done_testing;
