#!/usr/bin/perl

# $faas_max_memory is the function's own peak, never the runner's. A
# process that execs keeps its old memory's peak as its own (the kernel
# keeps the larger), so a worker the runner spawned itself, on the
# runner's memory, was billed the runner's peak: with "isolation = none"
# and under a runner not root, every CGI request. Promise: workers come
# from a prototype of a few pages, so a small script is billed about
# what it is under the default isolation and less than the runner's
# peak, and a big one still its whole size; the same under a runner
# that is not root.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use File::Copy qw(copy);
use Test::More;

FaasTest::need_root();
FaasTest::need(-x '/usr/bin/setpriv', 'setpriv (util-linux)');

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

$t->stop_runner;

# --- a runner not root -----------------------------------------------------

# its own copy (the checkout may be root's alone), faas-init beside it
my ($nuid, $ngid) = (getpwnam('nobody'))[2, 3];
mkdir "$p/nr";
for my $bin ($t->runner_bin_name, $FaasTest::BUILD . '/faas-init') {
    my ($base) = $bin =~ m{([^/]+)$};
    copy($bin, "$p/nr/$base") or die "copy $bin: $!";
    chmod 0755, "$p/nr/$base";
}
my ($runner) = $t->runner_bin_name =~ m{([^/]+)$};
rename "$p/nr/$runner", "$p/nr/fcgi-runner";
chown $nuid, $ngid, "$p/nr", "$p/logs", "$p/logs/meter.log";
mkdir "$p/nr/state";
chown $nuid, $ngid, "$p/nr/state";

$t->{runner_bin} = "$p/nr/as-nobody";
FaasTest::write_file($t->{runner_bin},
    "#!/bin/sh\nexec /usr/bin/setpriv --reuid=$nuid --regid=$ngid "
    . "--clear-groups $p/nr/fcgi-runner \"\$@\"\n");
chmod 0755, $t->{runner_bin};

$t->function('mine', "exec = ./c.sh\nmode = cgi\n", 'c.sh' => $sh);
# its socket where it may make one; nginx's path leads there
$t->{socket} = "$p/nr/runner.sock";
unlink "$p/runner.sock";
symlink $t->{socket}, "$p/runner.sock" or die "symlink: $!";

{
    no warnings 'redefine';
    local *FaasTest::runner_conf_text = sub {
        return "listen = unix:$p/nr/runner.sock\nlisten_mode = 0666\n"
             . "functions = $p/functions\nstate_dir = $p/nr/state\n";
    };
    $t->start_runner;
}

my @mine = map { billed('mine', "small\n") } 1 .. 3;
$hwm = runner_hwm();
my ($mine) = sort { $a <=> $b } @mine;
diag("a runner not root: sh CGI billed @mine kB; its peak $hwm kB");

my $uid = (stat("/proc/" . $t->runner_pid))[4];
is($uid, $nuid, 'the runner runs as nobody');
cmp_ok($mine, '>', 0, 'not root: a peak is billed');
cmp_ok($mine, '<', $dflt * 1.5 + 256,
       'not root: about what a root runner bills');
cmp_ok($mine, '<', $hwm - 512, "... less than the runner's own peak");

$t->done;

done_testing;
