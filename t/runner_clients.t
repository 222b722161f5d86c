#!/usr/bin/perl

# Clients of the runner's socket that misbehave. Promise: one that asks
# and never reads grows no unbounded output queue (the runner stops
# reading it); one that sends half a request is closed at
# client_header_timeout; max_connections bounds the connections (an idle
# kept one makes room, else accepting pauses, nothing is refused); the
# descriptor limit is what those need, not the hard limit.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest qw(fcgi_record fcgi_request_bytes);
use Test::More;
use IO::Select;
use Time::HiRes qw(time sleep);

# resident memory is measured: the plain build
my $t = FaasTest->new(runner => FaasTest::memory_runner());
my $fn = $t->testfn;

$t->function('echo', "exec = $fn\nmax_instances = 8\n");
$t->start_runner(conf => "client_header_timeout = 1s\nmax_connections = 8\n"
                         . "max_workers = 16\n");

sub rss {
    my ($kb) = FaasTest::read_file('/proc/' . $t->runner_pid . '/status')
        =~ /VmRSS:\s+(\d+)/;
    return $kb // 0;
}

sub params { FaasTest::fcgi_default_params(@_) }

local $SIG{PIPE} = 'IGNORE';

my $rss0 = rss();

# management records asked for and never read (for 0.8 s: the runner
# closes a connection that brings no request at client_header_timeout)
my $s = $t->fcgi_connect;
$s->blocking(0);
my $rec = fcgi_record(9, 0, FaasTest::fcgi_params(FCGI_MAX_CONNS => ''));
my $chunk = $rec x 4096;
my ($sent, $end) = (0, time + 0.8);
while (time < $end) {
    my $n = syswrite($s, $chunk);
    $sent += $n if $n;
    sleep 0.01 unless $n;
}
my $rss = rss();
ok($sent > 300_000, "a client wrote $sent bytes of GET_VALUES");
SKIP: {
    skip 'resident memory under ASan says nothing', 1
        unless FaasTest::rss_measured();
    ok($rss < $rss0 + 8 * 1024, "and never read: runner RSS ${rss} kB "
       . "(from ${rss0} kB)");
}
close $s;

# half a request, then silence: closed at client_header_timeout
$s = $t->fcgi_connect;
syswrite($s, fcgi_record(1, 1, pack('nCx5', 1, 1))
             . fcgi_record(4, 1, FaasTest::fcgi_params(FAAS_FUNCTION => 'e')));
my $t0 = time;
my $r = FaasTest::fcgi_read($s, timeout => 10);
my $took = time - $t0;
ok($r->{eof}, 'half a request: the connection is closed');
ok($took > 0.5 && $took < 5, sprintf('at client_header_timeout (%.1f s)',
                                     $took));
like($t->runner_log,
     qr/client sent no whole request within client_header_timeout/,
     'logged');

# a new connection that sends nothing: likewise
$s = $t->fcgi_connect;
$r = FaasTest::fcgi_read($s, timeout => 10);
ok($r->{eof}, 'a silent new connection is closed too');

# a kept connection idle between requests is not
$s = $t->fcgi_connect;
$r = FaasTest::fcgi_exchange($s, fcgi_request_bytes(params => params('echo')));
is($r->{http}{status}, 200, 'a request on a kept connection');
sleep 1.5;
$r = FaasTest::fcgi_exchange($s, fcgi_request_bytes(params => params('echo')));
is($r->{http}{status}, 200, 'the connection idle for 1.5 s still serves');
close $s;

# max_connections: kept idle connections make room
my @kept;
for (1 .. 8) {
    my $k = $t->fcgi_connect;
    FaasTest::fcgi_exchange($k, fcgi_request_bytes(params => params('echo')));
    push @kept, $k;
}
$r = $t->fcgi_call('echo');
is($r->{http}{status}, 200, 'over max_connections: an idle connection '
   . 'makes room');
like($t->runner_log, qr/max_connections 8 reached: closing an idle/,
     'logged');
close $_ for @kept;

# busy connections: accepting pauses, nothing is refused
my @busy;
for (1 .. 8) {
    my $b = $t->fcgi_connect;
    syswrite($b, fcgi_request_bytes(
        params => params('echo', QUERY_STRING => 'op=sleep&ms=1000')));
    push @busy, $b;
}
sleep 0.2;
$t0 = time;
$r = $t->fcgi_call('echo', timeout => 10);
$took = time - $t0;
is($r->{http}{status}, 200, 'a ninth connection is served');
ok($took > 0.4, sprintf('once a busy one is done (%.1f s)', $took));
like($t->runner_log, qr/max_connections 8 reached, not accepting/,
     'the pause is logged');
is(FaasTest::fcgi_read($_)->{http}{status}, 200, 'busy request answered')
    for @busy;

# descriptors: what max_connections and max_workers need
my ($soft) = FaasTest::read_file('/proc/' . $t->runner_pid . '/limits')
    =~ /Max open files\s+(\d+)/;
my ($mine) = FaasTest::read_file("/proc/$$/limits")
    =~ /Max open files\s+(\d+)/;
is($soft, ($mine >= 8 + 8 * 16 + 64 ? $mine : 8 + 8 * 16 + 64),
   "RLIMIT_NOFILE: $soft, not raised to the hard limit");

$t->done;

done_testing;
