#!/usr/bin/perl

# A function that writes its stderr as a flood of 1-byte FastCGI records
# (hostile pass: 4M of them in a few large writes, 18 ms of its own CPU)
# cost the runner 10 s of CPU, a core, while every other request waited:
# past a request's first 64 KB, each record moved the 8 KB tail kept for
# its client. Promise: the runner's cost of a record stays small (a
# million records: under 1 s of its CPU; 120 ms here, 2.3 s with the
# move), the client gets what its tenant's budget of nginx's log allows,
# the rest is counted, and the response is whole.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;
my $fn = $t->testfn;

$t->function('tiny', "exec = $fn\ntimeout = 60s\n");
$t->start_runner;

sub runner_cpu_ms {
    my $st = FaasTest::read_file("/proc/$t->{runner_pid}/stat") // '';
    $st =~ s/^.*\) //s;
    my @f = split / /, $st;
    return ($f[11] + $f[12]) * 1000 / 100;
}

my $before = runner_cpu_ms();
my $r = $t->fcgi_call('tiny', timeout => 120,
                      params => [ QUERY_STRING => 'op=tinyerr&n=1000000' ]);
my $used = runner_cpu_ms() - $before;

is($r->{http}{status}, 200, 'a million 1-byte stderr records: 200');
is($r->{http}{body}, "tiny\n", '... the response whole');
# its first 8 KB, a log line a record: as many as its tenant's 256 KB
# of nginx's log a second take, each line counted with its own (sent no
# REQUEST_URI, nginx's longest, 2048: t/hostile_stderr_nginx.t)
my $n = length($r->{stderr} =~ s/\n//gr);
ok($n >= 100 && $n <= 200,
   "... its client has $n of them, what its tenant's budget takes");
cmp_ok($used, '<', 1000, "the runner's CPU for them: $used ms");
ok($t->wait_log(qr/tenant "default": \d{6} bytes of its functions' stderr not sent to nginx/, 5),
   '... the rest counted and said');

$t->done;
done_testing;
