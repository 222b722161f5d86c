#!/usr/bin/perl

# $faas_max_memory is the function's own peak, never the runner's. A
# process that execs keeps its old memory's peak as its own (the kernel
# keeps the larger), so a worker the runner spawned itself, on the
# runner's memory, was billed the runner's peak: with "isolation =
# none", every CGI request. Promise: workers come
# from a prototype of a few pages, so a small script is billed about
# what it is under the default isolation and less than the runner's
# peak, and a big one still its whole size. (A runner not root spawns
# its workers itself: see README, Prototypes.)

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need_root();

my $t = FaasTest->new;
my $p = $t->prefix;

my $sh = "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\nsmall\\n'\n";
my $big = "#!/usr/bin/perl\nmy \$x = 'a' x (40 * 1024 * 1024);\n"
        . "print \"Content-Type: text/plain\\r\\n\\r\\nbig \", "
        . "length(\$x), \"\\n\";\n";

$t->function('none', "exec = ./c.sh\nmode = cgi\nuser = nobody\n"
                     . "isolation = none\n", 'c.sh' => $sh);
$t->function('dflt', "exec = ./c.sh\nmode = cgi\nuser = nobody\n",
             'c.sh' => $sh);
# the operator's own, run as root: no prototype (one forks for a user,
# never as root), so none asked for at each request
$t->function('rootnone', "exec = ./c.sh\nmode = cgi\nuser = root\n"
                         . "isolation = none\n", 'c.sh' => $sh);
$t->function('big', "exec = ./c.pl\nmode = cgi\nuser = nobody\n"
                    . "isolation = none\n", 'c.pl' => $big);

my $lines = 0;

# the memory billed for one request to $name, in kB
sub billed {
    my ($name, $body) = @_;
    my $r = $t->http_get("/fn/$name");
    is($r->{status}, 200, "$name: 200");
    is($r->{body}, $body, "$name: its answer");
    $lines++;
    my @l;
    FaasTest::wait_for(sub {
        @l = split /\n/, FaasTest::read_file("$p/logs/meter.log");
        @l >= $lines;
    }, 5);
    my ($m) = ($l[$lines - 1] // '') =~ / memory=(\d+) /;
    return $m // -1;
}

sub runner_hwm {
    my $pid = $t->runner_pid;
    my ($kb) = FaasTest::read_file("/proc/$pid/status") =~ /VmHWM:\s+(\d+)/;
    return $kb // 0;
}

# --- a root runner ---------------------------------------------------------

$t->start_runner(conf => "limit_isolation = none\n");
$t->start_nginx(FaasTest::meter_log_format() . $t->faas_location(
    location => "access_log $p/logs/meter.log faas_meter;"));

my (@none, @dflt);
for (1 .. 3) {
    push @none, billed('none', "small\n");
    push @dflt, billed('dflt', "small\n");
}
my $hwm = runner_hwm();
my ($none) = sort { $a <=> $b } @none;
my ($dflt) = sort { $a <=> $b } @dflt;

diag("sh CGI billed: isolation = none @none kB, default @dflt kB; "
     . "the runner's peak $hwm kB");

cmp_ok($none, '>', 0, 'isolation = none: a peak is billed');
cmp_ok($none, '<', $dflt * 1.5 + 256,
       'isolation = none: about what the default isolation bills');
cmp_ok($none, '<', $hwm - 512, "... less than the runner's own peak");

my $m = billed('big', "big 41943040\n");
cmp_ok($m, '>=', 40 * 1024, "a 40 MB script under none: $m kB billed");

like($t->http_get('/fn/none')->{body}, qr/^small$/, 'and then small again');
$lines++;

billed('rootnone', "small\n") for 1 .. 3;
unlike($t->runner_log, qr/prototype \d+ of "rootnone"/,
       'user = root: no prototype started, nor refused');

$t->done;

done_testing;
