#!/usr/bin/perl

# A zygote the runner kills (as it stops, a function retired) is its
# own child until it reaps it: a sweep of the function's pid namespace
# meanwhile (its worker's end, as the runner stops) took it for a
# process the function left behind and said so ("killing process Z
# left behind", Z the zygote). Promise: as the runner stops with a
# PHP zygote and its worker alive, or a Python function is changed on
# SIGHUP, the killed zygote is never named a stray, nor is its spare
# (one unknown child of the runner's in its session, which ends as it
# reads the end of the runner's socket); what a function does leave is
# still killed and said (t/hostile_orphans.t).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need(-x "$FaasTest::BUILD/faas-php",
               'faas-php (make deps: php8.2-dev, libphp8.2-embed)');
FaasTest::need(-x '/usr/bin/python3', 'python3');
FaasTest::need_root();

my $t = FaasTest->new;

$t->function('php', "runtime = php\nscript = index.php\n",
             'index.php' => "<?php echo \"php ok\\n\";\n");
my $py = "def app(env, start):\n"
         . "    start('200 OK', [('Content-Type', 'text/plain')])\n"
         . "    return [b'py ok\\n']\n";
$t->function('py', "runtime = python\napp = a:app\n", 'a.py' => $py);

# zygotes started, never said to be left behind
sub taken {
    my $log = $t->runner_log;
    my @z = $log =~ /zygote (\d+) of "[^"]+" started/g;
    return (scalar @z, grep { $log =~ /killing process $_ left behind/ } @z);
}

for my $round (1 .. 4) {
    $t->start_runner;
    like($t->fcgi_call('php')->{stdout} // '', qr/\r\n\r\nphp ok\n\z/,
         "($round) php: answered");
    like($t->fcgi_call('py')->{stdout} // '', qr/\r\n\r\npy ok\n\z/,
         "($round) py: answered");

    # changed: its zygote retired, its worker stopped
    $t->function('py', "runtime = python\napp = a:app\n"
                 . "idle_timeout = 1${round}s\n", 'a.py' => $py);
    my $changed = () = $t->runner_log =~ /function "py" changed/g;
    $t->signal_runner('HUP');
    ok(FaasTest::wait_for(sub {
           (() = $t->runner_log =~ /function "py" changed/g) > $changed
           && !$t->workers('py') }, 10),
       "($round) py: changed, its worker stopped");
    is($t->stop_runner, 0, "($round) the runner stops");
}

my ($started, @taken) = taken();
cmp_ok($started, '>=', 8, 'zygotes were started and killed');
is("@taken", '', '... none said to be left behind');
# nor their spares: each ends as it reads the end of the runner's socket
my @left = $t->runner_log =~ /killing process (\d+) left behind/g;
is("@left", '', 'nothing of theirs said to be left behind');

$t->done;

done_testing;
