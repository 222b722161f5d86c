#!/usr/bin/perl

# A graceful stop (SIGTERM; a binary upgrade's old runner does the same)
# while short CGI requests come over nginx's kept connections: a request
# that ended in the same loop round as the stop has its END_REQUEST
# still queued on its connection, which is idle by then. Promise: it is
# sent before the connection closes: nginx never sees an answer cut
# ("upstream prematurely closed connection": a 200 whose body ends
# early, its meter record lost). Several stops, each under load.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;
$t->ok_function('echo');
$t->start_runner;
$t->start_nginx($t->faas_location);

my ($stops, $sent) = (6, 0);
for my $i (1 .. $stops) {
    $t->start_runner unless $i == 1;
    my @load = map { $t->load_start('/fn/echo', 3) } 1 .. 4;
    select(undef, undef, undef, 1.5);
    $t->signal_runner('TERM');
    is($t->wait_runner(15), 0, "stop $i under load: the runner exits 0");
    for my $l (@load) {
        my $res = FaasTest::load_result($l);
        $sent += $1 if $res =~ /\b200=(\d+)/;
    }
}

cmp_ok($sent, '>', 100, "requests answered 200 around the stops ($sent)");
my @cut = grep { /upstream prematurely closed/ } split /\n/, $t->error_log;
ok(!@cut, 'no answer cut by a stop') or diag(join "\n", @cut[0 .. 2]);

$t->start_runner;
$t->done;
done_testing;
