#!/usr/bin/perl

# A tenant floods the runner with children that are not its workers:
# thousands of clone(CLONE_PARENT) children that exit at once, each the
# runner's to reap, and whose CPU the runner bills to their function
# (looked up while each is a zombie). Promise: every one is reaped (no
# zombie stays), the runner's cost per child stays small, another
# function answers throughout, and what they used is billed to the
# function that made them, never to another tenant's.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep time);

FaasTest::need_root('users and pid namespaces');

my $t = FaasTest->new;
my $p = $t->prefix;
my $meter = "$p/meter.log";
my $fn = FaasTest::testfn();
my $n = 2000;

# SYS_clone (56 on x86_64), CLONE_PARENT | SIGCHLD: the runner's child,
# which exits at once; in a session of its own with ?setsid
my $flood = <<"EOS";
#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
exec perl -MPOSIX -e '
  my \$made = 0;
  for (1 .. $n) {
      my \$c = syscall(56, 0x8000 | 17, 0, 0, 0, 0);
      if (\$c == 0) { POSIX::setsid() if \$ARGV[0]; POSIX::_exit(0) }
      \$made++ if \$c > 0;
      select(undef, undef, undef, 0.01) if \$c < 0;
  }
  print "made \$made\\n"' "\$QUERY_STRING"
EOS

# two tenants' functions: the flood, and another that serves meanwhile
$t->function('flood', "exec = ./run.sh\nmode = cgi\ntimeout = 60s\n"
             . "tenant = bad\n", 'run.sh' => $flood);
$t->function('flood_open', "exec = ./run.sh\nmode = cgi\ntimeout = 60s\n"
             . "isolation = none\ntenant = bad\n", 'run.sh' => $flood);
$t->function('other', "exec = $fn\ntenant = good\n");
# the operator's: two tenants' functions run as one user, no namespace
# to tell them apart: a helper in a session of its own is nobody's
$t->function('shared_a', "exec = ./run.sh\nmode = cgi\ntimeout = 60s\n"
             . "isolation = none\nuser = nobody\ntenant = ta\n",
             'run.sh' => $flood);
$t->function('shared_b', "exec = $fn\nisolation = none\nuser = nobody\n"
             . "tenant = tb\n");

$t->start_runner(conf => "meter_log = $meter\nlimit_isolation = none\n");
$t->start_nginx($t->faas_location);

sub runner_cpu_ms {
    my $stat = FaasTest::read_file("/proc/" . $t->runner_pid . "/stat")
               // '';
    $stat =~ s/^.*\) //s;
    my @f = split / /, $stat;
    return ($f[11] + $f[12]) * 1000 / POSIX::sysconf(POSIX::_SC_CLK_TCK());
}

sub runner_zombies {
    my $rp = $t->runner_pid;
    my $z = 0;
    for my $s (glob '/proc/[0-9]*/stat') {
        my $l = FaasTest::read_file($s) // next;
        $z++ if $l =~ /\) Z (\d+) / && $1 == $rp;
    }
    return $z;
}

is($t->http_get('/fn/other?op=pid')->{status}, 200, 'the other tenant serves');
is($t->http_get('/fn/shared_b?op=pid')->{status}, 200,
   'a tenant that shares its user with another serves');

for my $c (['flood', ''], ['flood', 'setsid'], ['flood_open', 'setsid'],
           ['shared_a', 'setsid']) {
    my ($name, $q) = @$c;
    my $what = "$name" . ($q ? " ($q)" : '');
    my $cpu = runner_cpu_ms();
    my $load = $t->load_start('/fn/other?op=pid', 3);
    my $t0 = time;
    my $r = $t->http_get("/fn/$name?$q", timeout => 60);
    my ($made) = ($r->{body} // '') =~ /made (\d+)/;
    ok($r->{status} == 200 && ($made // 0) > $n / 2,
       "$what: made @{[ $made // '?' ]} children of the runner's")
        or diag($r->{raw} // 'no answer');
    like(FaasTest::load_result($load), qr/^200=\d+$/,
         '... another tenant answered throughout');
    ok(FaasTest::wait_for(sub { runner_zombies() == 0 }, 20),
       '... every one reaped');
    my $used = runner_cpu_ms() - $cpu;
    cmp_ok($used, '<', ($made // $n) * 1.0 + 500,
           "... the runner's CPU for them: $used ms (@{[ sprintf '%.0f',
           1000 * $used / ($made || 1) ]} us each)");
}

my @idle = grep { /trigger=idle / }
           split /\n/, (FaasTest::read_file($meter) // '');
my @wrong = grep { !/function=(flood|flood_open|shared_a) / } @idle;
ok(!@wrong, 'no idle CPU billed to a function that made none')
    or diag(join "\n", @wrong);
my %sum;
for (@idle) {
    my ($name) = /function=(\S+) /;
    my ($cpu) = / cpu=([\d.]+)/;
    $sum{$name} += $cpu // 0;
}
cmp_ok($sum{$_} // 0, '>', 0, "what ${_}'s children used, billed to it: "
       . sprintf('%.0f ms', $sum{$_} // 0)) for qw(flood flood_open);

$t->done;

done_testing;
