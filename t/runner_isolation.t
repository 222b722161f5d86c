#!/usr/bin/perl

# isolation (a root runner): pid (its own pid namespace, faas-init its
# process 1: it sees only its own processes, orphans are reaped, and all
# of them end with it, even after setsid and a double fork), tmp (a
# /tmp and /dev/shm of its own, no bigger than its memory, with its own
# folder and script still at their paths), ipc, net (nothing but its own
# loopback), uts (its function's name as host name). "tmp pid ipc" is
# the default. Each is checked against a function with "isolation =
# none" on the same host, which sees what the isolated one must not.

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

# a file of the host's /tmp and /dev/shm, which isolated functions
# must not see; and what they write there must not reach the host
my $marker = "faas-iso-marker-$$";
FaasTest::write_file("/tmp/$marker", "host\n");
FaasTest::write_file("/dev/shm/$marker", "host\n");

my $look = <<"EOF";
#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
echo "pid \$\$"
echo "init \$(cat /proc/1/comm)"
echo "tmpseen \$(cat /tmp/$marker /dev/shm/$marker 2>/dev/null | wc -l)"
echo "tmpwrite \$(echo x > /tmp/\$FAAS_FUNCTION-$marker && echo x > /dev/shm/\$FAAS_FUNCTION-$marker && echo ok)"
( sleep 0 & ) ; sleep 0.3
echo "zombies \$(grep -l '^State:.Z' /proc/[0-9]*/status 2>/dev/null | wc -l)"
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
$t->function('open', "exec = ./look.sh\nmode = cgi\ntenant = iso\n"
             . "isolation = none\n", 'look.sh' => $look);
$t->function('fiso', "exec = " . $t->testfn . "\ntenant = iso\n"
             . "isolation = pid ipc net uts\nidle_timeout = 1s\n");
# the default, and its script in a folder of its own under /tmp
$t->function('dflt', "exec = /bin/sh -c '. \"\$SCRIPT_FILENAME\"'\n"
             . "script = ../../shared/look.sh\nmode = cgi\n");
mkdir "$t->{prefix}/shared", 0755;
FaasTest::write_file("$t->{prefix}/shared/look.sh", $look);
# a tenant whose CGI runs 6 at once under max_processes = 8: with
# faas-init that is 12 processes of its user; init is not held to the
# count, so every one starts, and the function's own forks still are
$t->function('busy', "exec = ./busy.sh\nmode = cgi\nmax_instances = 6\n"
             . "max_processes = 8\ntenant = busy\n",
             'busy.sh' => "#!/bin/sh\n"
                          . "printf 'Content-Type: text/plain\\r\\n\\r\\n'\n"
                          . "echo done\nexec sleep 1\n");
# its program outside its folder, named with "..": kept all the same
mkdir "$t->{prefix}/bin", 0755;
FaasTest::write_file("$t->{prefix}/bin/up.sh", "#!/bin/sh\nprintf "
                     . "'Content-Type: text/plain\\r\\n\\r\\nup\\n'\n");
chmod 0755, "$t->{prefix}/bin/up.sh";
$t->function('up', "exec = ../../bin/up.sh\nmode = cgi\n");
$t->function('fdef', "exec = " . $t->testfn . "\nmax_instances = 1\n");
$t->function('full', "exec = ./fill.sh\nmode = cgi\nmemory = 64M\n",
             'fill.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\n"
                          . "dd if=/dev/zero of=/tmp/big bs=1M count=80 "
                          . "2>/dev/null\nls -s /tmp/big\nrm /tmp/big\n"
                          . "for d in /tmp /dev/shm /var/tmp /run/lock; do "
                          . "dd if=/dev/zero of=\$d/part bs=1M count=40 "
                          . "2>/dev/null; done\n"
                          . "echo all \$(ls -s /tmp/part /dev/shm/part "
                          . "/var/tmp/part /run/lock/part "
                          . "| awk '{ n += \$1 } END { print n }')\n");
$t->function('bogus', "exec = ./look.sh\nmode = cgi\nisolation = chroot\n",
             'look.sh' => $look);
# an empty value says nothing: it ran the function with no namespace
$t->function('blank', "exec = ./look.sh\nmode = cgi\nisolation =\n",
             'look.sh' => $look);

# a message queue of the host, which the isolated function must not see
my $q = `ipcmk -Q 2>&1`;
my ($qid) = $q =~ /(\d+)/;

$t->{port} = $port;
# functions that turn isolation off: the floor lowered
$t->start_runner(conf => "limit_isolation = none\n");
$t->start_nginx($t->faas_location);

sub look {
    my ($name) = @_;
    my $r = $t->http_get("/fn/$name", timeout => 10);
    return {} unless $r && $r->{status} == 200;
    return { map { /^(\w+) (.*)$/ ? ($1, $2) : () } split /\n/, $r->{body} };
}

my $open = look('open');
my $iso = look('iso');
my $dflt = look('dflt');

cmp_ok($open->{pid} // 0, '>', 2, 'without isolation: a pid of the host');
is($iso->{pid}, 2, 'isolation pid: the function is pid 2 of its namespace');
is($iso->{init}, 'faas-init', '... and faas-init its process 1');
is($iso->{zombies}, 0, '... which reaps what the function orphans');
is($dflt->{pid}, 2, 'the default has a pid namespace');
is($dflt->{init}, 'faas-init', '... with faas-init');
is($dflt->{ipc}, 0, 'the default has an ipc namespace');
is($open->{tmpseen}, 2, 'without: the host\'s /tmp and /dev/shm');
is($dflt->{tmpseen}, 0, 'the default: a /tmp and /dev/shm of its own');
is($dflt->{tmpwrite}, 'ok', '... where it can write');
ok(!-e "/tmp/dflt-$marker" && !-e "/dev/shm/dflt-$marker",
   '... and nothing it writes reaches the host');
ok(-e "/tmp/open-$marker" && -e "/dev/shm/open-$marker",
   'what the open one writes does (the check can fail)');
is($iso->{tmpseen}, 2, 'without tmp in its list: the host\'s /tmp');
unlink "/tmp/open-$marker", "/dev/shm/open-$marker",
       "/tmp/iso-$marker", "/dev/shm/iso-$marker";
{
    my $r = $t->http_get('/fn/full');
    my ($kb) = ($r && $r->{body} // '') =~ /^(\d+)/m;
    ok(defined $kb && $kb <= 64 * 1024 && $kb > 1024,
       "its /tmp holds no more than its memory (wrote " . ($kb // '?')
       . " KiB of 80 MiB)");
    my ($all) = ($r && $r->{body} // '') =~ /^all (\d+)/m;
    ok(defined $all && $all <= 64 * 1024 + 64 && $all > 32 * 1024,
       "its /tmp, /dev/shm, /var/tmp and /run/lock together too (wrote "
       . ($all // '?') . " KiB of 4 x 40 MiB)");
}
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

{
    my $r = $t->http_get('/fn/up');
    is($r->{status}, 200, 'exec = ../../bin/up.sh under /tmp: runs');
    is($r->{body}, "up\n", '... and answers');
}

# faas-init reports how the function ended: a crash is still a crash
{
    is($t->http_get('/fn/fdef?op=env')->{status}, 200,
       'a FastCGI worker with the default isolation');
    my ($w) = $t->workers('fdef');
    is($t->http_get('/fn/fdef?op=crash')->{status}, 502, 'crash: 502');
    ok($t->wait_log(qr/worker $w of "fdef" exited on signal 11/),
       'logged with its signal, through faas-init');
    $t->http_get('/fn/fdef?op=env');
    ($w) = $t->workers('fdef');
    is($t->http_post('/fn/fdef?op=exit', 'x')->{status}, 502, 'exit: 502');
    ok($t->wait_log(qr/worker $w of "fdef" exited with code 3/),
       'logged with its exit code');
}

{
    my @s = map { $t->http_start('/fn/busy') } 1 .. 6;
    my @r = map { FaasTest::http_finish($_, timeout => 10) } @s;
    is(scalar(grep { $_ && $_->{status} == 200 && $_->{body} eq "done\n" }
              @r), 6, 'max_processes = 8: 6 at once under faas-init, all '
       . 'answered');
    unlike($t->runner_log, qr/"busy" cannot start/, 'no start failed');
}

sub sleepers {
    grep { (FaasTest::read_file("/proc/$_/cmdline") // '') eq "sleep\0" . "60\0" }
         FaasTest::all_pids();
}

# the isolated one's sleeper ended with its namespace's init; the open
# one's was found by its pipes and killed: none either way
ok(FaasTest::wait_for(sub { !sleepers() }, 10),
   'nothing left behind by either');

like($t->runner_log, qr{invalid value "chroot" of "isolation" in \S+/bogus/function.conf:3},
     'a word that is no namespace: refused with file and line');
is($t->http_get('/fn/bogus')->{status}, 404, 'not loaded');
like($t->runner_log, qr{invalid value "" of "isolation" in \S+/blank/function.conf:3},
     'an empty isolation: refused with file and line, not taken for none');
is($t->http_get('/fn/blank')->{status}, 404, 'not loaded');

$t->done;

system('ipcrm', '-q', $qid) if defined $qid;
unlink "/tmp/$marker", "/dev/shm/$marker";

done_testing;
