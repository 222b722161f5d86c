#!/usr/bin/perl

# The runner stopped fast (SIGINT) while a metered response was going
# out: nginx logs the cut ("upstream prematurely closed connection"),
# as for stock fastcgi_pass, and nothing more. The module's
# ABORT_REQUEST (for a client that left) was sent on the closed
# connection all the same, an error line of its own: "send() failed
# (32: Broken pipe)".

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;
$t->function('stream', "exec = " . $t->testfn . "\n");
$t->start_runner;
$t->start_metered_nginx($t->prefix . '/logs/access.log');

# 20 parts of 2 kB, 200 ms apart
my $s = $t->http_start('/fn/stream?op=stream&n=20&ms=200');

ok(FaasTest::wait_for(sub { $t->runner_log =~ /spawned|started|ready/ }, 5),
   'the function runs');
sleep 1;
$t->signal_runner('INT');
ok(defined $t->wait_runner(15), 'the runner stopped fast');

my $r = FaasTest::http_finish($s);
is($r->{status}, 200, 'the answer had begun: 200');
ok(length($r->{body}) < 20 * 2048, '... cut short');

ok(FaasTest::wait_for(sub {
       $t->error_log =~ /upstream prematurely closed connection/
   }, 5), 'nginx logs the cut');
unlike($t->error_log, qr/send\(\) failed/,
       '... and no send() to the closed connection');

$t->done;
done_testing;
