#!/usr/bin/perl

# A function's process makes a child that is not its own: with
# clone(CLONE_PARENT) the new process is the runner's child, out of
# reach of its function's process 1 and outside the worker's process
# group, holding the worker's stdout. Isolated (a prototype, a pid
# namespace) or not, it is found when the worker ends and killed: the
# answer ends promptly, the process is gone, the function serves on.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep time);

FaasTest::need_root('pid namespaces');

my $t = FaasTest->new;

# SYS_clone (56 on x86_64), CLONE_PARENT | SIGCHLD, no new stack: a
# fork whose parent is the caller's parent; then a session of its own
# (made while the worker still runs: its group is killed as it ends)
my $run = <<'EOS';
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\nescaped\n'
exec perl -e '$p = syscall(56, 0x8000 | 17, 0, 0, 0, 0);
  if ($p == 0) { require POSIX; POSIX::setsid();
                 $0 = "faas-escapee-'"$QUERY_STRING"'"; sleep 60; exit 0 }
  select(undef, undef, undef, 0.5); exit 0'
EOS
$t->function('esc', "exec = ./run.sh\nmode = cgi\ntimeout = 20s\n",
             'run.sh' => $run);
$t->function('esc_open', "exec = ./run.sh\nmode = cgi\ntimeout = 20s\n"
             . "isolation = none\n", 'run.sh' => $run);

$t->start_runner(conf => "limit_isolation = none\n");
$t->start_nginx($t->faas_location);

sub escapees {
    my ($tag) = @_;
    return grep { (FaasTest::read_file("/proc/$_/cmdline") // '')
                  =~ /^faas-escapee-\Q$tag\E/ } FaasTest::all_pids();
}

for my $fn ('esc', 'esc_open') {
    for my $i (1 .. 3) {
        my $tag = "$fn$i";
        my $t0 = time;
        my $r = $t->http_get("/fn/$fn?$tag", timeout => 30);
        my $took = time - $t0;
        is($r && $r->{status}, 200, "$fn #$i: answered");
        is($r && $r->{body}, "escaped\n", "$fn #$i: whole");
        cmp_ok($took, '<', 8, sprintf("$fn #$i: the answer ends with the "
                                      . "worker, not its timeout (%.1f s)",
                                      $took));
        ok(FaasTest::wait_for(sub { !escapees($tag) }, 10),
           "$fn #$i: the runner's child it made is gone")
            or diag("left: @{[ escapees($tag) ]}");
    }
}

like($t->runner_log,
     qr/killing process \d+ left behind in the pid namespace of "esc"/,
     'isolated: killed as left in its namespace, logged');
is($t->http_get('/fn/esc?again')->{status}, 200, 'the function serves on');
ok(kill(0, $t->runner_pid), 'the runner is up');

$t->done;

done_testing;
