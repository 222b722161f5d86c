#!/usr/bin/perl

# Responses nginx sends without a body (HEAD, 204, 304) are metered like
# any other, and the kept connection to the runner stays reusable.
# nginx closes the upstream unread once such a header is out, so the
# module reads the rest of the response first. Promise: one meter line
# per invocation with outcome=ok and a duration, whatever the method or
# status; the runner accepts one connection for all of them.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(time);

my $t = FaasTest->new;
my $fn = $t->testfn;

$t->function('hello', "exec = $fn\n");
$t->function('nocontent', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\nprintf 'Status: 204 No Content\\r\\n\\r\\n'\n");
$t->function('notmod', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\nprintf 'Status: 304 Not Modified"
                       . "\\r\\n\\r\\n'\n");
$t->function('bigbody', "exec = $fn\n");
# a body without end: a HEAD to it is answered once 16 MB went by,
# never held to the function's timeout nor made a 502 by it; the run is
# metered by the runner (meter_log), as for a client that left
$t->function('stream', "exec = ./run.sh\nmode = cgi\ntimeout = 6s\n",
             'run.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain"
                       . "\\r\\n\\r\\n'\nexec yes stream\n");
# one that trickles, one silent after its header, a 204 that works on:
# at their timeout the header, once (a kept connection that broke is
# tried again by nginx: the function would run twice), metered timeout
$t->function('slow', "exec = ./run.sh\nmode = cgi\ntimeout = 3s\n",
             'run.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain"
                       . "\\r\\n\\r\\n'\nwhile :; do echo tick; "
                       . "sleep 0.3; done\n");
$t->function('silent', "exec = ./run.sh\nmode = cgi\ntimeout = 3s\n",
             'run.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain"
                       . "\\r\\n\\r\\n'\nexec sleep 30\n");
$t->function('late204', "exec = ./run.sh\nmode = cgi\ntimeout = 3s\n",
             'run.sh' => "#!/bin/sh\nprintf 'Status: 204 No Content"
                       . "\\r\\n\\r\\n'\nexec sleep 30\n");

my $meter = $t->prefix . '/logs/meter.log';
$t->start_runner(log_level => 'debug', conf => "meter_log = $meter\n");

my $log = $t->prefix . '/logs/faas.log';
$t->start_nginx(FaasTest::meter_log_format()
                . $t->faas_location(location => "access_log $log faas_meter;"));

# start_runner may have knocked on the socket before the runner said it
# listens: count what came after
my $accepted0 = () = $t->runner_log =~ /client connection \d+ accepted/g;

my @calls = (
    [ HEAD => '/fn/hello' ],
    [ HEAD => '/fn/bigbody?op=big&n=2000000' ],
    [ GET => '/fn/nocontent' ],
    [ GET => '/fn/notmod' ],
    [ HEAD => '/fn/nocontent' ],
    [ GET => '/fn/hello' ],
);

for my $c (@calls) {
    my ($m, $u) = @$c;
    my $r = $t->http("$m $u HTTP/1.0\r\nHost: localhost\r\n\r\n");
    ok($r && $r->{status} =~ /^(200|204|304)$/, "$m $u: answered");
    is($r->{body}, '', "$m $u: no body") unless $m eq 'GET'
                                                && $u eq '/fn/hello';
}

FaasTest::wait_for(sub { (() = FaasTest::read_file($log) =~ /\n/g) == 6 }, 5);
my @lines = split /\n/, FaasTest::read_file($log);
is(scalar @lines, 6, 'one meter line per invocation');

for my $i (0 .. $#calls) {
    like($lines[$i] // '', qr/outcome=ok duration=\d+\.\d{3} /,
         "$calls[$i][0] $calls[$i][1]: metered");
}

my $accepted = () = $t->runner_log =~ /client connection \d+ accepted/g;
is($accepted - $accepted0, 1, 'all over one kept connection to the runner');

{
    my $t0 = time;
    my $r = $t->http("HEAD /fn/stream HTTP/1.0\r\nHost: localhost\r\n\r\n",
                     timeout => 15);
    is($r && $r->{status}, 200, 'HEAD to an endless stream: 200');
    ok(time - $t0 < 4, "... at once, not at its timeout (@{[
       sprintf '%.1f', time - $t0 ]} s)");
    ok(FaasTest::wait_for(sub { FaasTest::read_file($meter)
                                =~ /function=stream [^\n]*trigger=/ }, 15),
       '... the run metered in meter_log');
    ok(FaasTest::wait_for(sub { !$t->workers('stream') }, 15),
       '... and ended');
}

for my $c (['HEAD', 'slow', 200], ['HEAD', 'silent', 200],
           ['GET', 'late204', 204]) {
    my ($m, $f, $status) = @$c;
    my $t0 = time;
    my $r = $t->http("$m /fn/$f HTTP/1.0\r\nHost: localhost\r\n\r\n",
                     timeout => 15);
    my $took = time - $t0;
    is($r && $r->{status}, $status, "$m to $f: $status, its header");
    ok($took > 2.5 && $took < 5.5, sprintf('... at its timeout (%.1f s), '
       . 'once', $took));
    ok(FaasTest::wait_for(sub { FaasTest::read_file($log)
                                =~ /function=$f [^\n]*outcome=timeout/ }, 5),
       '... metered timeout in the access log');
    is(scalar(() = $t->runner_log =~ /"$f"[^\n]* timed out/g), 1,
       '... run once') or diag(join "\n", grep { /"$f"/ }
                               split /\n/, $t->runner_log);
    unlike(FaasTest::read_file($meter), qr/function=$f /,
           '... not in meter_log too');
}
$t->done;

done_testing;
