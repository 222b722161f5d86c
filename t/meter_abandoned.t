#!/usr/bin/perl

# nginx stops reading a function's answer before its measurements when
# its client leaves while it reads (or a filter answers in its place):
# the runner may have written all of it by then, into the socket or its
# own buffers, and the measurements at its end never reach the access
# log. Promise: every run is billed exactly once: on nginx's line (an
# outcome) when nginx read the measurements, else in meter_log
# (trigger=http, client_closed), never in both, whatever the answer's
# size; fcgi-runner meter counts each once.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use IO::Socket::INET;
use Test::More;

$SIG{PIPE} = 'IGNORE';

my $t = FaasTest->new;
my $p = $t->prefix;
my $meter = "$p/meter.log";
my $access = "$p/logs/meter.log";

$t->function('big', "exec = @{[ $t->testfn ]}\n");
$t->start_runner(conf => "meter_log = $meter\n");
$t->start_nginx(FaasTest::meter_log_format() . $t->faas_location(
    location => "access_log $access faas_meter;"));

# a client that reads the first bytes of the answer, then leaves
my $n = 0;
for my $size ((10000) x 40, (30000) x 40, (100000) x 20, (300000) x 20) {
    {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $t->port,
                                      Timeout => 5) or die "connect: $!";
        $n++;
        print $s "GET /fn/big?op=big&n=$size&i=$n HTTP/1.1\r\n"
               . "Host: localhost\r\n\r\n";
        sysread($s, my $buf, 100);
        close $s;
    }
}

sub lines { grep { length } split /\n/, (FaasTest::read_file($_[0]) // '') }

# every line of nginx's, then every run billed
ok(FaasTest::wait_for(sub { lines($access) == $n }, 30),
   "$n requests, $n lines in the access log");
my $billed = sub {
    (grep { !/ outcome=- / } lines($access)) + lines($meter) };
ok(FaasTest::wait_for(sub { $billed->() >= $n }, 30),
   'every run billed: on nginx\'s line or in meter_log')
    or diag($billed->() . " of $n");
sleep 1;
is($billed->(), $n, '... each once') or diag($billed->() . " of $n");

my @m = lines($meter);
cmp_ok(scalar @m, '>', 0, 'some of them in meter_log ('
       . scalar(@m) . ')');
is(scalar(grep { / status=499 outcome=client_closed .* trigger=http / } @m),
   scalar @m, '... as runs whose client left: 499, client_closed, http');

my $report = `$FaasTest::BUILD/fcgi-runner meter --format csv $access $meter 2>/dev/null`;
my ($inv) = $report =~ /^big,(\d+),/m;
is($inv, $n, 'fcgi-runner meter counts each once') or diag($report);

# the runner, asked again on the same connections, answers as before
is($t->http_get('/fn/big?op=big&n=10')->{status}, 200,
   'the next request: 200');

$t->done;
done_testing;
