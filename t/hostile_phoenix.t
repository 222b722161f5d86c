#!/usr/bin/perl

# Strays that bring each other back. A CGI function answers and leaves
# two processes (double-forked, each in a session of its own, holding
# its output pipe): each watches the other through a pipe and, the
# moment the other dies, forks a new one. Each also holds hundreds of
# descriptors before the pipe, so that reading them takes the runner a
# while. Killing them one by one as they are found lets the second see
# the first die and fork a replacement before its own kill: a few
# passes leave a generation behind. Promise: with isolation = none too,
# nothing it left outlives the invocation (the runner stops them all,
# then kills them); with a pid namespace, they end with it.
#
# Whatever happens, the test stops what it started: the strays give up
# at a deadline, and the test stops (SIGSTOP) every one it finds before
# it kills them.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(time sleep);

FaasTest::need_root('functions as another user');

my $deadline = int(time) + 40;

my $phoenix = <<"EOF";
#!/usr/bin/perl
use strict;
use POSIX qw(setsid _exit);

my \$deadline = $deadline;
my \@keep;

\$| = 1;
print "Content-Type: text/plain\\r\\n\\r\\nanswered\\n";

# a new stray: double-forked, setsid; returns the end that reads EOF
# when it dies; it reads EOF on its own end when we die
sub spawn {
    pipe(my \$mine, my \$its) or return;
    pipe(my \$back, my \$ours) or return;
    my \$pid = fork // return;
    if (\$pid == 0) {
        close \$mine;
        close \$ours;
        setsid();
        _exit(0) if fork;
        guard(\$back, \$its);
    }
    waitpid(\$pid, 0);
    close \$its;
    close \$back;
    \@keep = (\$ours);
    return \$mine;
}

sub guard {
    my (\$watch, \$hold) = \@_;
    my \$left = \$deadline - time;
    _exit(0) if \$left <= 0;
    alarm \$left;
    # the first generation: slow to read, many descriptors before the
    # function's output pipes; the next ones inherit them, and react at
    # once
    if (defined fileno(STDOUT)) {
        open(my \$null, '<', '/dev/null');
        my %busy = map { \$_ => 1 } fileno(\$watch), fileno(\$hold);
        POSIX::dup2(fileno(\$null), \$_) for grep { !\$busy{\$_} } 3 .. 3000;
        POSIX::dup2(1, 3500);
        POSIX::dup2(2, 3501);
        close STDIN;
        close STDOUT;
        close STDERR;
    }
    for (;;) {
        sysread(\$watch, my \$b, 1);
        _exit(0) if time >= \$deadline;
        \$watch = spawn() // _exit(0);
    }
}

spawn();
sleep 1;
EOF

my $t = FaasTest->new;

for my $open ('', '_open') {
    $t->function("phoenix$open", "exec = ./run.pl\nmode = cgi\n"
                 . "timeout = 10s\nmax_files = 3600\n"
                 . ($open ? "isolation = none\n" : ''),
                 'run.pl' => $phoenix);
}

# functions without isolation too: the floor lowered
$t->start_runner(conf => "limit_isolation = none\n");
$t->start_nginx($t->faas_location);

my $p = $t->prefix;

sub strays {
    my @p;
    for my $pid ($t->leftovers) {
        my $cmd = FaasTest::read_file("/proc/$pid/cmdline");
        push @p, $pid if $cmd =~ /run\.pl/;
    }
    return @p;
}

# the test's own end of them: stopped, looked for again, then killed
sub stop_all {
    my %stopped;
    for (1 .. 50) {
        my @new = grep { !$stopped{$_} } strays();
        last unless @new;
        kill 'STOP', @new;
        $stopped{$_} = 1 for @new;
    }
    kill 'KILL', keys %stopped;
}

for my $name ('phoenix', 'phoenix_open') {
    my $t0 = time;
    my $r = $t->http_get("/fn/$name", timeout => 20);
    my $took = time - $t0;
    is($r->{status}, 200, "$name: answered");
    is($r->{body}, "answered\n", "$name: whole body");
    # its output ends when the last holder of its pipes is gone: at once,
    # not at its timeout (10 s), when the runner looks for strays again
    ok($took < 6, sprintf("$name: the answer ends at once (%.1f s)", $took));

    my @left;
    FaasTest::wait_for(sub { !(@left = strays()) }, 5);
    ok(!@left, "$name: nothing it left lives on")
        or diag("left: @left");
    stop_all();
    ok(FaasTest::wait_for(sub { !strays() }, 10), "$name: all gone");
}

like($t->runner_log,
     qr/killing process \d+ left behind by worker \d+ of "phoenix_open"/,
     'without isolation: what was killed is logged');

is($t->http_get('/fn/phoenix')->{status}, 200, 'the function still answers');
stop_all();

$t->done;

done_testing;
