#!/usr/bin/perl

# The module's response record parser under libFuzzer, linked alone
# (t/codec/module_parse_fuzz.c), for a bounded time, seeded with the
# responses the protocol tests send: whole responses, measurement
# records, stderr, padding, records split at every size.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest qw(fcgi_record fcgi_params);
use Test::More;

my $t = FaasTest->new;

my @seeds = (
    fcgi_record(6, 1, "Content-Type: text/plain\r\n\r\nhello\n")
        . fcgi_record(6, 1, '') . fcgi_record(3, 1, pack('NCx3', 0, 0)),
    fcgi_record(6, 1, "Status: 404 Not Found\r\n\r\n", 3)
        . fcgi_record(7, 1, "oops\n")
        . fcgi_record(100, 1, fcgi_params(outcome => 'ok', duration => 5))
        . fcgi_record(3, 1, pack('NCx3', 0, 0)),
    fcgi_record(6, 1, 'x' x 65535),
    fcgi_record(11, 0, "\x64" . "\0" x 7) . fcgi_record(255, 1, 'junk', 255),
);
# each also cut in pieces of 1, 7 and 23 bytes (the input's first byte)
$t->libfuzzer('module_parse_fuzz', 10, 1000,
              map { my $seed = $_; map { chr($_) . $seed } 0, 6, 22 } @seeds);

done_testing;
