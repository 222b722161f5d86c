#!/usr/bin/perl

# The runner behind stock nginx fastcgi_pass: a function answers, its
# worker is reused, unknown and invalid names are 404 without a worker.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;
my $fn = $t->testfn;

$t->function('hello', "exec = $fn\nmax_instances = 2\n");
$t->function('other', "exec = $fn\n");
$t->start_runner;
$t->start_nginx;

my $r = $t->http_get('/fn/hello');
is($r->{status}, 200, 'function answers 200');
like($r->{body}, qr/^pid=(\d+)$/m, 'body from the worker');
my ($pid) = $r->{body} =~ /pid=(\d+)/;
is(FaasTest::header($r, 'content-type'), 'text/plain', 'its content type');

my %pids;
for (1 .. 20) {
    my $x = $t->http_get('/fn/hello');
    $pids{$1}++ if $x->{body} =~ /pid=(\d+)/;
}
is_deeply([keys %pids], [$pid], 'sequential requests reuse the same worker');
is(scalar $t->workers('hello'), 1, 'one worker process for hello');
is(scalar $t->workers('other'), 0, 'no worker for a function never called');

$r = $t->http_get('/fn/hello?op=status');
is($r->{status}, 201, 'Status: header of the function');
is(FaasTest::header($r, 'x-test'), 'yes', 'its own header');
is(scalar @{ $r->{headers}{'set-cookie'} }, 2, 'repeated Set-Cookie kept');

$r = $t->http_get('/fn/nosuch');
is($r->{status}, 404, 'unknown function 404');
is($r->{body}, "404 Not Found\n", 'short fixed body');

for my $name ('..%2Fx', '', 'a' x 65, '-dash', 'sp%20ace', '.x') {
    $r = $t->http_get("/fn/$name");
    is($r->{status}, 404, "invalid name \"$name\" is 404");
}

# nginx itself refuses a NUL in the URI; over FastCGI below it is ours
$r = $t->http_get('/fn/x%00y');
like($r->{status}, qr/^40[04]$/, 'NUL in the name refused');

# names straight over FastCGI, past nginx's URI normalisation
for my $name ('../x', '', 'a' x 65, "he\0llo", 'hello/..', 'a' x 1000) {
    my $x = $t->fcgi_call($name);
    is($x->{http}{status}, 404, 'invalid name over FastCGI is 404: '
       . length($name) . ' bytes');
}

my $x = $t->fcgi_call('a' x 64);
is($x->{http}{status}, 404, '64 characters is valid but unknown: 404');

is(scalar $t->workers('other'), 0, 'no worker started by bad names');
like($t->runner_log, qr/invalid function name/, 'logged as invalid');
like($t->runner_log, qr/invalid function name "he\\x00llo"/,
     '... a NUL escaped, not the end of the name');
{
    # a client's bytes never make a log line of their own
    my $y = $t->fcgi_call("x\n2026/12/05 00:00:00 [alert] 1#0: forged");
    is($y->{http}{status}, 404, 'a name with a newline: 404');
    unlike($t->runner_log, qr/^\S+ \S+ \[alert\] 1#0: forged/m,
           '... no line forged in the log');
    like($t->runner_log, qr/invalid function name "x\\x0a2026/,
         '... the newline escaped');
}

# FCGI_GET_VALUES
my $s = $t->fcgi_connect;
$x = FaasTest::fcgi_exchange($s, FaasTest::fcgi_record(9, 0,
        FaasTest::fcgi_params(FCGI_MPXS_CONNS => '', FCGI_MAX_CONNS => '',
                              FOO => '')),
        until_type => 10, until_end => 0);
my ($rec) = grep { $_->[0] == 10 } @{ $x->{records} };
ok($rec, 'GET_VALUES_RESULT');
like($rec->[2], qr/FCGI_MPXS_CONNS0/, 'FCGI_MPXS_CONNS is 0');
like($rec->[2], qr/FCGI_MAX_CONNS\d+/, 'FCGI_MAX_CONNS given');
unlike($rec->[2], qr/FOO/, 'unknown names left out');

# and the same connection still serves a request
$x = FaasTest::fcgi_exchange($s, FaasTest::fcgi_request_bytes(
        params => FaasTest::fcgi_default_params('hello')));
is($x->{http}{status}, 200, 'request after GET_VALUES on one connection');
close $s;

$t->done;
done_testing;
