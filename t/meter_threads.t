#!/usr/bin/perl

# $faas_cpu_time bills all the CPU an invocation ran: its threads and
# the children it waited for, not only its main thread. Each function
# burns CPU in a joined pthread or in a forked child it waits for and
# says what getrusage(RUSAGE_SELF / RUSAGE_CHILDREN) counted; the meter
# must show most of it. FastCGI with and without a pid namespace (where
# the meter reads faas-init's child), CGI reaped in time (wait4) and CGI
# that lives on after its answer (read from /proc). Under a pid
# namespace also an orphan it left that ended (faas-init reaps it).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need_root('metering of isolated workers');

my $t = FaasTest->new;
my $fn = $t->testfn;
my $cgi = $t->program("$FaasTest::BUILD/t/cgi");
my $p = $t->prefix;

$t->function('f', "exec = $fn\n");
$t->function('fopen', "exec = $fn\nisolation = none\n");
$t->function('c', "exec = $cgi\nmode = cgi\n");
$t->function('copen', "exec = $cgi\nmode = cgi\nisolation = none\n");
# functions without isolation too: the floor lowered
$t->start_runner(conf => "limit_isolation = none\n");
$t->start_metered_nginx("$p/logs/meter.log");

my $n = 0;

# the request and its log line, as a hash
sub get {
    my ($uri) = @_;
    my $r = $t->http_get($uri, timeout => 20);
    $n++;
    my @lines;
    FaasTest::wait_for(sub {
        @lines = split /\n/, FaasTest::read_file("$p/logs/meter.log");
        @lines >= $n;
    }, 5);
    my %h = map { /^([a-z_]+)=(.*)$/ ? ($1, $2) : () }
            split / /, $lines[$n - 1] // '';
    return ($r, \%h);
}

# what the function counted of its burn, and what the meter billed
sub check {
    my ($name, $uri, $key) = @_;
    my ($r, $l) = get($uri);
    is($r->{status}, 200, "$name: answered");
    my ($counted) = $r->{body} =~ /\b${key}_ms=(\d+)/;
    $counted //= 0;
    ok($counted >= 250, "$name: the function burnt $counted ms ($key)");
    ok(($l->{cpu} // 0) >= $counted * 0.8 - 20,
       "$name: cpu=$l->{cpu} ms bills most of the $counted ms");
}

# warm: the first call's start is not what is measured here
for my $f ('f', 'fopen') {
    get("/fn/$f");
    check("$f thread", "/fn/$f?op=threadburn&ms=300", 'self');
    check("$f child", "/fn/$f?op=childburn&ms=300", 'children');
}

# a process it left, which ended within the invocation: under a pid
# namespace faas-init reaps it, and what it used is billed too
check('f orphan', '/fn/f?op=orphanburn&ms=300', 'orphan');

for my $f ('c', 'copen') {
    check("$f thread", "/fn/$f?burn=thread&ms=300", 'self');
    check("$f child", "/fn/$f?burn=child&ms=300", 'children');
    # its answer ends, it lives on: measured from /proc, not wait4()
    check("$f thread, lingering",
          "/fn/$f?burn=thread&ms=300&linger=1500", 'self');
    check("$f child, lingering",
          "/fn/$f?burn=child&ms=300&linger=1500", 'children');
}

$t->done;

done_testing;
