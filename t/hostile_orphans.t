#!/usr/bin/perl

# What a function leaves behind holding nothing of it: a daemon (double
# fork, setsid, every descriptor closed) or a clone(CLONE_PARENT) child
# that does the same. Outside a pid namespace neither is found by what
# it holds; both come to the runner (a subreaper; CLONE_PARENT makes
# the runner its parent at once). Promise: each is killed when a worker
# of its user ends, under "isolation = none", "tmp" and the default; a
# live worker's own such child in its session stays while that worker
# lives; a Python app that does it while its zygote imports it, in the
# zygote's session or its own, loses the processes and its zygote, and
# the function serves on.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(time);

FaasTest::need_root('users and namespaces');

my $t = FaasTest->new;

# clone: SYS_clone (56 on x86_64), CLONE_PARENT | SIGCHLD; daemon: a
# fork whose child forks again and exits; either way a session of its
# own, nothing open, named by the query string
my $cgi = <<'EOS';
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\nleft\n'
exec perl -e '
  my $clone = $ENV{QUERY_STRING} =~ /clone/;
  my $p = $clone ? syscall(56, 0x8000 | 17, 0, 0, 0, 0) : fork();
  if ($p == 0) {
      exit 0 if !$clone && fork();
      require POSIX;
      POSIX::close($_) for 0 .. 63;
      POSIX::setsid();
      $0 = "faas-orphan-$ENV{QUERY_STRING}";
      sleep 600;
      exit 0;
  }
  select(undef, undef, undef, 0.3); exit 0'
EOS

my %iso = (none => "isolation = none\n", tmp => "isolation = tmp\n",
           dflt => '');
for my $k (sort keys %iso) {
    $t->function("cgi$k", "exec = ./run.sh\nmode = cgi\nuser = nobody\n"
                 . "timeout = 20s\n$iso{$k}", 'run.sh' => $cgi);
}

# a daemon whose main thread exits while another runs on: its leader
# shows as a zombie, and it lives; it says its pid
my $zdir = $t->function('cgizombie', "exec = ./run.sh\nmode = cgi\n"
                        . "user = nobody\nisolation = none\n",
                        'run.sh' => <<'EOS');
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\nleft\n'
exec python3 -c '
import ctypes, os, threading, time
if os.fork() == 0:
    if os.fork():
        os._exit(0)
    os.setsid()
    open("out/zpid", "w").write(str(os.getpid()))
    os.closerange(0, 64)
    threading.Thread(target=time.sleep, args=(600,)).start()
    ctypes.CDLL(None).syscall(60, 0)
time.sleep(0.3)'
EOS
mkdir "$zdir/out";
chmod 0777, "$zdir/out";

# a live worker's own CLONE_PARENT child, in its session
my $keep = <<'EOS';
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def app(env, start):
    if env.get('QUERY_STRING', '').startswith('clone'):
        if libc.syscall(56, 0x8000 | 17, 0, 0, 0, 0) == 0:
            os.execv('/bin/sleep', ['sleep', '3621'])
    start('200 OK', [('Content-Type', 'text/plain')])
    return [b'kept\n']
EOS
$t->function('keeper', "runtime = python\napp = k:app\nuser = nobody\n"
             . "isolation = none\nidle_timeout = 10s\n", 'k.py' => $keep);

# an app that makes the runner's children while its zygote imports it
my $zy = <<'EOS';
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
marker = os.path.join(os.path.dirname(__file__), 'out', 'forked')
if not os.path.exists(marker):
    open(marker, 'w').close()
    if libc.syscall(56, 0x8000 | 17, 0, 0, 0, 0) == 0:
        SETSID
        os.execv('/bin/sleep', ['sleep', 'TAG'])
def app(env, start):
    start('200 OK', [('Content-Type', 'text/plain')])
    return [b'zygote ok\n']
EOS
my %zy;
for my $c (['zynone', "isolation = none\n", 3631, ''],
           ['zydflt', '', 3632, ''],
           ['zynones', "isolation = none\n", 3633, 'os.setsid()'],
           ['zydflts', '', 3634, 'os.setsid()']) {
    my ($name, $iso, $tag, $setsid) = @$c;
    (my $app = $zy) =~ s/TAG/$tag/;
    $app =~ s/SETSID/$setsid || 'pass'/e;
    my $dir = $t->function($name, "runtime = python\napp = z:app\n"
                           . "user = nobody\nidle_timeout = 1s\n$iso",
                           'z.py' => $app);
    mkdir "$dir/out";
    chmod 0777, "$dir/out";
    $zy{$name} = [$dir, $tag];
}

$t->start_runner(conf => "limit_isolation = none\n");
$t->start_nginx($t->faas_location);

# live processes whose command line matches
sub named { return FaasTest::cmdline_pids(@_) }

# --- a CGI's daemon and its CLONE_PARENT child -----------------------------

for my $k (sort keys %iso) {
    for my $how ('daemon', 'clone') {
        my $tag = "$how$k";
        my $t0 = time;
        my $r = $t->http_get("/fn/cgi$k?$tag", timeout => 30);
        is($r && $r->{body}, "left\n", "cgi$k, $how: answered");
        cmp_ok(time - $t0, '<', 10, "cgi$k, $how: not held by it");
        ok(FaasTest::wait_for(sub { !named(qr/^faas-orphan-\Q$tag\E/) }, 10),
           "cgi$k, $how: what it left holding nothing is gone")
            or diag('left: ' . join ' ', named(qr/^faas-orphan-\Q$tag\E/));
    }
}
like($t->runner_log, qr/killing process \d+ left behind by a worker of "cginone" \(uid \d+\)/,
     '... logged');

is($t->http_get('/fn/cgizombie')->{body}, "left\n", 'a zombie-looking daemon');
my $zpid;
ok(FaasTest::wait_for(sub { $zpid = FaasTest::read_file("$zdir/out/zpid") },
                      10), '... it ran');
ok(FaasTest::wait_for(sub { !$zpid || !-e "/proc/$zpid" }, 10),
   '... a leader gone with a thread alive is no zombie: killed')
    or diag(FaasTest::read_file("/proc/$zpid/status"));
kill 'KILL', $zpid if $zpid;

# --- a live worker's own child stays with it -------------------------------

is($t->http_get('/fn/keeper?clone')->{body}, "kept\n", 'keeper: answered');
my $kept;
ok(FaasTest::wait_for(sub { ($kept) = named(qr/^sleep\x003621\x00/) }, 10),
   "keeper: its worker's CLONE_PARENT child runs");
$kept //= 0;
is($t->http_get('/fn/cginone?other')->{body}, "left\n",
   'another function of its user ends a worker');
ok(FaasTest::wait_for(sub { !named(qr/^faas-orphan-other/) }, 10),
   '... whose orphan goes');
ok($kept && kill(0, $kept), "... the live worker's child stays");
ok(FaasTest::wait_for(sub { !named(qr/^sleep\x003621\x00/) }, 40),
   '... and goes when its worker ends (idle_timeout)');

# --- a zygote's app that makes the runner's children -----------------------

for my $name (sort keys %zy) {
    my ($dir, $tag) = @{ $zy{$name} };
    is($t->http_get("/fn/$name/")->{body}, "zygote ok\n", "$name: answered");
    ok(-e "$dir/out/forked", "$name: (its app cloned while imported)");
    ok(FaasTest::wait_for(sub { !named(qr/^sleep\x00\Q$tag\E\x00/) }, 20),
       "$name: the process its app made is gone")
        or diag('left: ' . join ' ', named(qr/^sleep\x00\Q$tag\E\x00/));
    # in the zygote's session or its own (setsid), found as it is ready
    ok($t->wait_log(qr/zygote \d+ of "$name" has \d+ process\(es\) of its own, which its app started: killed/, 10)
       && $t->wait_log(qr/zygote \d+ of "$name" started processes nobody bills; its workers start cold/, 5),
       "$name: its zygote is retired");
    is($t->http_get("/fn/$name/")->{body}, "zygote ok\n",
       "$name: served again");
}

ok(kill(0, $t->runner_pid), 'the runner is up');

$t->done;

done_testing;
