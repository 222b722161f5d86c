#!/usr/bin/perl

# Asynchronous invocations on a full disk: state_dir is a small tmpfs.
# Promise: once the store cannot grow, accepting answers 503 (never a
# 202 for what is not stored), nothing is half-written (every 202 is a
# row, no other row), the runner stays up, and once there is room again
# it accepts again.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need_root('a tmpfs for state_dir');

my $t = FaasTest->new;
my $state = $t->prefix . '/state';
mkdir $state;
system('mount', '-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', $state) == 0
    or BAIL_OUT('cannot mount a tmpfs');

# its invocations run and are kept (async_retention): the store grows
$t->function('hold', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain"
                         . "\\r\\n\\r\\nok\\n'\n");

$t->start_runner;
$t->start_nginx($t->faas_location(location => 'faas_invocation_header on;'));

my (%status, @ids);
for my $i (1 .. 120) {
    my $r = $t->http_post('/fn/hold', ('z' x 40000) . $i,
                          headers => "Faas-Invocation: async\r\n");
    $status{$r->{status}}++;
    push @ids, FaasTest::header($r, 'faas-invocation-id')
        if $r->{status} == 202;
    last if $r->{status} == 503 && $status{503} >= 3;
}

cmp_ok($status{202} // 0, '>', 5, "accepted while there was room "
       . "($status{202})");
cmp_ok($status{503} // 0, '>=', 1, 'then 503, not 202');
is(join(',', sort keys %status), '202,503', 'nothing but 202 and 503');
ok(kill(0, $t->runner_pid), 'the runner is up');
like($t->runner_log, qr/asynchronous invocations not stored: their clients get 503/,
     'and says why');

# the store holds exactly what was answered 202
my $rows = `sqlite3 -readonly $state/async.db 'SELECT id FROM invocations' 2>&1`;
my %rows = map { $_ => 1 } split /\n/, $rows;
is(scalar(grep { !$rows{$_} } @ids), 0, 'every 202 is in the store');
is(scalar(keys %rows), scalar(@ids), '... and nothing else');
is(`sqlite3 -readonly $state/async.db 'PRAGMA quick_check' 2>&1`, "ok\n",
   'the store is sound');

# room again: accepted again
system('mount', '-o', 'remount,size=8m', $state);
my $r = $t->http_post('/fn/hold', 'small',
                      headers => "Faas-Invocation: async\r\n");
is($r->{status}, 202, 'with room again: 202');
push @ids, FaasTest::header($r, 'faas-invocation-id');

# every invocation accepted runs and its outcome is kept: an ack made in
# the round of a batch that failed to commit, or that failed itself, is
# not lost, and no claim is left running
my $sql = "SELECT state, COUNT(*) FROM invocations GROUP BY state";
my $states = '';
FaasTest::wait_for(sub {
    $states = `sqlite3 -readonly $state/async.db '$sql' 2>&1`;
    $states eq "2|" . scalar(@ids) . "\n";
}, 30);
is($states, "2|" . scalar(@ids) . "\n",
   'every accepted invocation ends succeeded, none left queued or running')
    or diag(`sqlite3 -readonly $state/async.db 'SELECT id, state, attempts, error FROM invocations WHERE state != 2' 2>&1`);

$t->done;
system('umount', '-l', $state);

done_testing;
