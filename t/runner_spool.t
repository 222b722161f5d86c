#!/usr/bin/perl

# A response is held (memory, then an unlinked file) while its request
# body is still arriving; spool_max bounds one, spool_max_total all.
# Promise: a function that answers more than that before reading its
# body gets its client a 502 (never a cut response), logged; its worker
# is stopped; what it held is released; the next request is served.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest qw(fcgi_record);
use Test::More;
use Time::HiRes qw(sleep);

my $t = FaasTest->new;
my $fn = $t->testfn;

$t->function('early', "exec = $fn\nmax_instances = 4\n");
$t->start_runner(conf => "spool_max = 1M\nspool_max_total = 1500K\n");

sub start {
    my ($n) = @_;
    my $s = $t->fcgi_connect;
    syswrite($s, FaasTest::fcgi_request_bytes(
        params => FaasTest::fcgi_default_params('early',
            QUERY_STRING => "op=early&n=$n", REQUEST_METHOD => 'POST',
            CONTENT_LENGTH => 10), no_stdin => 1)
        . fcgi_record(5, 1, 'first'));
    return $s;
}

sub finish {
    my ($s) = @_;
    return FaasTest::fcgi_exchange($s, fcgi_record(5, 1, 'later')
                                       . fcgi_record(5, 1, ''), timeout => 10);
}

# under the limit: held, then sent whole
my $s = start(500_000);
sleep 0.5;
my $r = finish($s);
is($r->{http}{status}, 200, 'a 500 kB early answer is held and sent');
is(length($r->{http}{body}), 500_000 + length("\nbody=10\n"),
   'whole, with the body counted after it');

# over spool_max
my @w0 = $t->workers('early');
$s = start(3_000_000);
sleep 0.5;
$r = finish($s);
is($r->{http}{status}, 502, 'a 3 MB early answer: 502');
is($r->{http}{body}, "502 Bad Gateway\n", 'the short body, nothing cut');
my $held = qr/the response held while its request body arrives/;
like($t->runner_log, qr/"early": $held \(\d+ bytes\) would pass spool_max 104/,
     'logged');

# over spool_max_total: two at once, each under spool_max
my ($a, $b) = (start(900_000), start(900_000));
sleep 0.8;
my @r = (finish($a), finish($b));
is(join(' ', sort map { $_->{http}{status} } @r), '200 502',
   'two of 900 kB held at once, 1500 kB for all: one is 502');

$r = $t->fcgi_call('early', params => [ QUERY_STRING => 'op=pid' ]);
is($r->{http}{status}, 200, 'the next request is served');

# every held byte released: a held 1 MB answer fits again
$s = start(1_000_000);
sleep 0.5;
is(finish($s)->{http}{status}, 200, 'nothing of the failed ones is '
   . 'still counted');

$t->done;

# spool_max_total all but used: not even the runner's own 502 fits in
# what is left (it looped: the answer declined, the request failed, the
# answer again, to a stack overflow). The connection closes, the runner
# serves on.
{
    my $u = FaasTest->new;
    $u->function('early', "exec = $fn\n");
    $u->start_runner(conf => "spool_max_total = 16\n");
    my $c = $u->fcgi_connect;
    syswrite($c, FaasTest::fcgi_request_bytes(
        params => FaasTest::fcgi_default_params('early',
            QUERY_STRING => 'op=early&n=20000', REQUEST_METHOD => 'POST',
            CONTENT_LENGTH => 10), no_stdin => 1)
        . fcgi_record(5, 1, 'first'));
    my $got = FaasTest::fcgi_exchange($c, '', timeout => 10);
    is($got->{http}{status}, 502, 'no room for even its own answer: its '
       . 'short 502 goes all the same (a few bytes over the bound)');
    ok($got->{ended}, '... and its END_REQUEST');
    like($u->runner_log, qr/"early": the response held while its request body arrives/,
         '... the hold over spool_max_total, logged');
    close $c;
    ok(kill(0, $u->{runner_pid}), '... the runner lives');
    is($u->fcgi_call('early', params => [ QUERY_STRING => 'op=pid' ])
       ->{http}{status}, 200, '... and serves the next request');
    $u->done;
}

# A response that fills its spool to the byte (8 + 42 + 950 = 1000):
# its end (the empty STDOUT, the measurements, END_REQUEST) did not fit
# and was dropped, the client (nginx) waited for it to its timeout.
# The records of the protocol's own are never refused for room. And a
# client that breaks the protocol while the response is all held gets
# the runner's 400, not a closed connection.
{
    my $u = FaasTest->new;
    $u->function('big', "exec = $fn\n");
    $u->function('head', "exec = $fn\n");
    $u->start_runner(conf => "spool_max = 1000\n");
    for my $n (940, 950) {
        my $c = $u->fcgi_connect;
        syswrite($c, FaasTest::fcgi_request_bytes(
            params => FaasTest::fcgi_default_params('big',
                QUERY_STRING => "op=big&n=$n", REQUEST_METHOD => 'POST',
                CONTENT_LENGTH => 10, FAAS_METER => 1), no_stdin => 1)
            . fcgi_record(5, 1, 'first'));
        sleep 0.5;
        my $got = FaasTest::fcgi_exchange($c, fcgi_record(5, 1, 'later')
                                          . fcgi_record(5, 1, ''),
                                          timeout => 5);
        is($got->{http}{status}, 200, "a held answer of $n bytes: 200");
        is(length($got->{http}{body}), $n, '... whole');
        ok($got->{ended}, '... and ended, though its spool is full');
        is(scalar(grep { $_->[0] == 100 } @{ $got->{records} }), 1,
           '... its measurements with it');
    }
    my $c = $u->fcgi_connect;
    syswrite($c, FaasTest::fcgi_request_bytes(
        params => FaasTest::fcgi_default_params('head',
            QUERY_STRING => 'op=slowhead&ms=20000')));
    sleep 0.5;
    my $got = FaasTest::fcgi_exchange($c, fcgi_record(5, 1, 'more'),
                                      timeout => 5);
    is($got->{http}{status}, 400, 'STDIN after its end, the half header '
       . 'held: the runner\'s 400');
    is($got->{http}{body}, "400 Bad Request\n", '... nothing of the '
       . 'function\'s before it');
    like($u->runner_log, qr/client sent STDIN after the end of STDIN/,
         '... logged');
    $u->done;
}

done_testing;
