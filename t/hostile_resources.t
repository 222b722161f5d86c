#!/usr/bin/perl

# Functions that grab what the host has: a fork bomb, descriptors without
# end, memory without end (the disk, through the response spool, is
# runner_spool.t's). Each runs as its tenant's dynamic user with
# max_processes, max_files and memory set. Promise: each hits its limit
# (fork and open fail, the allocation dies), the runner stays up and
# small, other functions keep answering meanwhile, the slot is freed,
# nothing of the function is left.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need_root('limits per tenant');

my $t = FaasTest->new;
my $fn = $t->testfn;

my $head = 'print "Content-Type: text/plain\r\n\r\n";';

# forks until fork fails; the children close their output and wait
$t->function('bomb', "exec = ./run.pl\nmode = cgi\nmax_instances = 1\n"
             . "tenant = bomber\nmax_processes = 16\ntimeout = 5s\n",
    'run.pl' => "#!/usr/bin/perl\n\$| = 1; my \$n = 0;\n"
              . "while (1) { my \$p = fork; last unless defined \$p;\n"
              . "  if (!\$p) { close STDOUT; close STDERR; sleep 60; exit }\n"
              . "  \$n++ }\n$head print \"forked \$n: \$!\\n\";\n");

# opens descriptors until open fails
$t->function('fds', "exec = ./run.pl\nmode = cgi\ntenant = hoarder\n"
             . "max_files = 64\n",
    'run.pl' => "#!/usr/bin/perl\nmy \@f; my \$n = 0;\n"
              . "while (open(my \$h, '<', '/dev/null')) { push \@f, \$h; "
              . "\$n++; last if \$n > 100000 }\n"
              . "$head print \"opened \$n: \$!\\n\";\n");

# allocates until the allocation fails
$t->function('hog', "exec = ./run.pl\nmode = cgi\ntenant = hog\n"
             . "memory = 64M\n",
    'run.pl' => "#!/usr/bin/perl\nmy \$x = 'x' x (512 * 1024 * 1024);\n"
              . "$head print length(\$x), \"\\n\";\n");

$t->function('other', "exec = $fn\ntenant = neighbour\n");

$t->start_runner;
$t->start_nginx($t->faas_location);

my $rss0 = FaasTest::proc_rss($t->runner_pid);

my $r = $t->http_get('/fn/bomb', timeout => 20);
is($r && $r->{status}, 200, 'the fork bomb answers');
my ($n) = ($r ? $r->{body} : '') =~ /^forked (\d+): /;
ok(defined $n && $n < 16, 'fork failed at max_processes ('
   . ($n // 'none') . ')');
like($r ? $r->{body} : '', qr/Resource temporarily unavailable/,
     'with EAGAIN');
is($t->http_get('/fn/other')->{status}, 200, 'a neighbour answers');

my $bomber = (split ' ', (grep { /^bomber / } split /\n/,
              FaasTest::read_file($t->prefix . '/state/dynamic-users'))[0]
             // '')[1];
ok($bomber, "the bomber's dynamic uid ($bomber)");
ok(FaasTest::wait_for(sub { !grep { uid_of_pid($_) == $bomber }
                                  FaasTest::all_pids() }, 10),
   'every process of the bomb is gone');
$r = $t->http_get('/fn/bomb', timeout => 20);
is($r && $r->{status}, 200, 'its slot is free: it runs again');

$r = $t->http_get('/fn/fds');
like($r ? $r->{body} : '', qr/^opened (\d+): Too many open files$/m,
     'open failed with EMFILE');
my ($opened) = ($r ? $r->{body} : '') =~ /^opened (\d+)/m;
ok(defined $opened && $opened <= 64, 'within max_files ('
   . ($opened // 'none') . ')');

$r = $t->http_get('/fn/hog', timeout => 20);
ok($r && ($r->{status} == 502 || $r->{body} !~ /^536870912$/m),
   'the 512 MB allocation does not succeed under memory = 64M');
is($t->http_get('/fn/other')->{status}, 200, 'the neighbour still answers');

ok(FaasTest::proc_alive($t->runner_pid), 'the runner is up');
my $rss1 = FaasTest::proc_rss($t->runner_pid);
cmp_ok($rss1, '<', $rss0 + 20_000, "and small ($rss0 -> $rss1 kB)");

$t->done;

sub uid_of_pid {
    my ($pid) = @_;
    my $s = FaasTest::read_file("/proc/$pid/status") // '';
    return $s =~ /^Uid:\s+(\d+)/m ? $1 : -1;
}

done_testing;
