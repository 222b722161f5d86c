#!/usr/bin/perl

# The event loop never runs a handler on a freed object. Reproduces
# what once killed the runner: stock fastcgi_pass without keepalive and
# invocations that time out, so that a connection closed by a timer was
# still posted for the next round (heap-use-after-free under ASan, heap
# corruption without). Promise: the runner stays up, answers 504 for
# each timeout and 200 afterwards, and its log has no sanitizer report.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;
my $fn = $t->testfn;

$t->function('slow', "exec = $fn\ntimeout = 1s\nmax_instances = 4\n");
$t->function('good', "exec = $fn\n");
$t->start_runner;
$t->{port} = FaasTest::free_port();
$t->start_nginx($t->fastcgi_location(keepalive => 0));

like($t->runner_bin_name, qr/asan/, 'the runner under test is the '
     . 'sanitizer build');

for my $i (1 .. 3) {
    my $r = $t->http_get('/fn/slow?op=sleep&ms=3000');
    is($r->{status}, 504, "timeout $i: 504");
}

# several at once, with other requests between them
my @s = map { $t->http_start('/fn/slow?op=sleep&ms=3000') } 1 .. 4;
my @g = map { $t->http_get('/fn/good') } 1 .. 5;
is(scalar(grep { $_ && $_->{status} == 200 } @g), 5,
   'other requests answered meanwhile');
my @r = map { FaasTest::http_finish($_) } @s;
is(scalar(grep { $_ && $_->{status} == 504 } @r), 4,
   'four concurrent timeouts: 504 each');

ok(kill(0, $t->runner_pid), 'the runner is alive');
is($t->http_get('/fn/slow?op=sleep&ms=10')->{status}, 200,
   'the function answers after its timeouts');
is($t->http_get('/fn/good')->{status}, 200, 'and so does another');

$t->done;

done_testing;
