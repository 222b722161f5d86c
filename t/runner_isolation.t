#!/usr/bin/perl

# isolation = pid ipc net uts (a root runner): the worker is the init of
# its own pid namespace (it sees only its own processes; all of them end
# with it, even after setsid and a double fork), has IPC objects of its
# own, a network of nothing but its own loopback, and its function's
# name as host name. Each is checked against a function without
# isolation on the same host, which sees what the isolated one must not.
# "tmp" is not there yet: refused with file and line, like a word that
# is no namespace.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep);

FaasTest::need_root('namespaces');

my $t = FaasTest->new;

my $port = FaasTest::free_port();

my $look = <<"EOF";
#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
echo "pid \$\$"
echo "procs \$(ls -d /proc/[0-9]* | wc -l)"
echo "host \$(uname -n)"
echo "ipc \$(ipcs -q | grep -c 0x)"
echo "ifaces \$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ' ')"
if perl -MIO::Socket::INET -e 'exit !IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 2)'; then
    echo "net reached"
else
    echo "net refused"
fi
# leaves a double-forked sleeper in a session of its own
( ( exec setsid sleep 60 ) & ) &
sleep 0.2
EOF

$t->function('iso', "exec = ./look.sh\nmode = cgi\ntenant = iso\n"
             . "isolation = pid ipc net uts\n", 'look.sh' => $look);
$t->function('open', "exec = ./look.sh\nmode = cgi\ntenant = iso\n",
             'look.sh' => $look);
$t->function('fiso', "exec = " . $t->testfn . "\ntenant = iso\n"
             . "isolation = pid ipc net uts\nidle_timeout = 1s\n");
$t->function('tmp', "exec = ./look.sh\nmode = cgi\nisolation = pid tmp\n",
             'look.sh' => $look);
$t->function('bogus', "exec = ./look.sh\nmode = cgi\nisolation = chroot\n",
             'look.sh' => $look);

# a message queue of the host, which the isolated function must not see
my $q = `ipcmk -Q 2>&1`;
my ($qid) = $q =~ /(\d+)/;

$t->{port} = $port;
$t->start_runner;
$t->start_nginx($t->faas_location);

sub look {
    my ($name) = @_;
    my $r = $t->http_get("/fn/$name", timeout => 10);
    return {} unless $r && $r->{status} == 200;
    return { map { /^(\w+) (.*)$/ ? ($1, $2) : () } split /\n/, $r->{body} };
}

my $open = look('open');
my $iso = look('iso');

isnt($open->{pid}, 1, 'without isolation: a pid of the host');
is($iso->{pid}, 1, 'isolation pid: the worker is pid 1 of its namespace');
cmp_ok($iso->{procs} // 99, '<=', 10, "it sees only its own processes "
       . "($iso->{procs} of the host's $open->{procs})");
is($iso->{host}, 'iso', "uts: its host name is the function's");
isnt($open->{host}, 'iso', '... not the host\'s');
cmp_ok($open->{ipc} // 0, '>=', 1, 'without: the host\'s message queue');
is($iso->{ipc}, 0, 'ipc: none of the host\'s');
is($iso->{ifaces}, 'lo ', 'net: its own loopback only');
like($open->{ifaces} // '', qr/lo /, 'without: the host\'s interfaces');
is($open->{net}, 'reached', 'without: nginx on 127.0.0.1 is reached');
is($iso->{net}, 'refused', 'net: the host\'s loopback is not');

# a FastCGI worker in namespaces: served, reused, stopped when idle (it
# is its namespace's init: SIGTERM reaches it only if it handles it;
# the SIGKILL after the grace ends it)
{
    my $r = $t->http_get('/fn/fiso?op=env');
    is($r && $r->{status}, 200, 'an isolated FastCGI worker answers');
    my ($w) = $t->workers('fiso');
    is($t->http_get('/fn/fiso?op=env')->{status}, 200, 'and again');
    is(($t->workers('fiso'))[0], $w, 'on the same worker');
    ok(FaasTest::wait_for(sub { !$t->workers('fiso') }, 10),
       'stopped after idle_timeout');
}

sub sleepers {
    grep { (FaasTest::read_file("/proc/$_/cmdline") // '') eq "sleep\0" . "60\0" }
         FaasTest::all_pids();
}

# the isolated one's sleeper ended with its namespace's init; the open
# one's was found by its pipes and killed: none either way
ok(FaasTest::wait_for(sub { !sleepers() }, 10),
   'nothing left behind by either');

like($t->runner_log, qr{invalid value "pid tmp" of "isolation" in \S+/tmp/function.conf:3},
     '"tmp": refused with file and line');
like($t->runner_log, qr{invalid value "chroot" of "isolation" in \S+/bogus/function.conf:3},
     'a word that is no namespace: refused');
is($t->http_get('/fn/tmp')->{status}, 404, 'not loaded');

$t->done;

system('ipcrm', '-q', $qid) if defined $qid;

done_testing;
