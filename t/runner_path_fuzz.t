#!/usr/bin/perl

# The runner's request path under libFuzzer (t/codec/runner_fuzz.c: all
# of the runner but main, a real socket and event loop, an empty
# functions folder), for a bounded time, seeded with the requests the
# protocol tests send. It fails on a crash, a sanitizer report, or a
# connection, request or held byte left after the client has gone.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest qw(fcgi_record fcgi_params fcgi_request_bytes);
use Test::More;

my $t = FaasTest->new;

my @seeds = (
    fcgi_request_bytes(params => FaasTest::fcgi_default_params('echo')),
    fcgi_request_bytes(params => FaasTest::fcgi_default_params('../x')),
    fcgi_request_bytes(params => FaasTest::fcgi_default_params('e',
        REQUEST_METHOD => 'POST'), stdin => 'body' x 100, keep => 1)
        . fcgi_request_bytes(id => 2, params => [ FAAS_STATUS => 1 ]),
    fcgi_record(9, 0, fcgi_params(FCGI_MAX_CONNS => '', FCGI_MAX_REQS => ''))
        . fcgi_record(42, 0, 'x' x 8),
    fcgi_record(1, 1, pack('nCx5', 1, 1)) . fcgi_record(4, 1, "\x7f\x7fx")
        . fcgi_record(4, 1, '') . fcgi_record(2, 1, ''),
    fcgi_record(1, 1, pack('nCx5', 3, 0)),
    fcgi_request_bytes(params => [ BIG => 'x' x 70000 ]),
    # the status's query and Accept parsers
    fcgi_request_bytes(params => [ FAAS_STATUS => 1,
        QUERY_STRING => 'format=%70rometheus&function=a%2&tenant=b+c%',
        HTTP_ACCEPT => 'text/html;q=0.5, application/json;q=0.40,'
                       . 'text/plain;version=0.0.4;q=1.000, */*;q=,text/*' ]),
);
$t->libfuzzer('runner_fuzz', 10, 100, @seeds);

done_testing;
