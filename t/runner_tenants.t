#!/usr/bin/perl

# Tenants on one host (a root runner): a folder owned by a user runs as
# that user and is billed to it; a root-owned folder without "user"
# runs as the dynamic user of its tenant, one per tenant, stable across
# restarts, never a uid of passwd; a folder may not claim another
# user, group or tenant; the operator's caps refuse a function asking
# for more; --test names each refusal with file and line; the meter
# bills each invocation to its real tenant; a tenant at its limits
# waits (then 503) while the others are not slowed.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;
use Time::HiRes qw(time sleep);

FaasTest::need_root('tenants');

my $t = FaasTest->new;
my $fn = $t->testfn;

my ($d_uid, $d_gid) = (getpwnam('daemon'))[2, 3];
my ($g_uid, $g_gid) = (getpwnam('games'))[2, 3];

sub owned {
    my ($name, $uid, $gid, $conf) = @_;
    my $dir = $t->function($name, $conf);
    chown $uid, $gid, $dir or die "chown $dir: $!";
}

# two customers with unix users, two dynamic tenants, the default one
owned('alice', $d_uid, $d_gid, "exec = $fn\n");
owned('bob', $g_uid, $g_gid, "exec = $fn\ntenant = games\n");
$t->function('carol', "exec = $fn\ntenant = carol\n");
$t->function('carol2', "exec = $fn\ntenant = carol\n");
$t->function('dave', "exec = $fn\ntenant = dave\n");
# any of A-Z a-z 0-9 _ - first, as a user's name may start ("_apt")
$t->function('lead', "exec = $fn\ntenant = _lead\n");
# a dot in it, as in a user's name ("j.doe": a customer's folder is its
# user's tenant, "tenant" may say it again); its limits in the runner
# config by the same name. A "tenant" of another name has none of
# DESIGN's "A-Z a-z 0-9 _ -" but "." (a user for it, made and removed here)
my $dot = "fq.$$";
system('useradd', '-r', '-M', '-s', '/usr/sbin/nologin', $dot) == 0
    or die "useradd $dot: $?";
END { system('userdel', $dot) if $dot && getpwnam($dot) }
my ($dot_uid, $dot_gid) = (getpwnam($dot))[2, 3];
owned('dotted', $dot_uid, $dot_gid, "exec = $fn\n");
owned('dotted2', $dot_uid, $dot_gid, "exec = $fn\ntenant = $dot\n");
$t->function('dotroot', "exec = $fn\n\ntenant = j.doe\n");
$t->function('dotuser', "exec = $fn\nuser = $dot\ntenant = $dot\n");
$t->function('plain', "exec = $fn\n");

# claims a customer may not make
owned('claimuser', $d_uid, $d_gid, "exec = $fn\n\nuser = root\n");
owned('claimgroup', $d_uid, $d_gid, "exec = $fn\ngroup = disk\n");
owned('claimtenant', $d_uid, $d_gid, "# billed to another\nexec = $fn\n"
      . "tenant = carol\n");

# a customer's over the caps: the default ones (limit_memory 1G,
# limit_timeout 5m) and one the operator set (limit_instances); the
# operator's own function.conf (root's folder and file) is held to the
# caps the operator set, not to the default ones
owned('greedy', $d_uid, $d_gid, "exec = $fn\nmemory = 0\n");
owned('slowpoke', $d_uid, $d_gid, "exec = $fn\ntimeout = 10m\n");
# a customer's fork bomb, and its descriptors, past the host's caps
owned('forky', $d_uid, $d_gid, "exec = $fn\nmax_processes = 4000000\n");
owned('fdhog', $d_uid, $d_gid, "exec = $fn\nmax_files = 1048576\n");
# a customer's store of asynchronous invocations with no bound, or past
# the host's cap
owned('hoarder', $d_uid, $d_gid, "exec = $fn\nasync_max_queued = 0\n");
owned('hoarder2', $d_uid, $d_gid, "exec = $fn\nasync_max_queued = 200000\n");
$t->function('crowd', "exec = $fn\nmax_instances = 500\n");
$t->function('opbig', "exec = $fn\ntimeout = 10m\nmemory = 2G\n");

# a tenant with a limit of two workers
$t->function('lim1', "exec = $fn\ntenant = limited\n");
$t->function('lim2', "exec = $fn\ntenant = limited\nqueue_timeout = 2s\n");

# a tenant whose workers' memory may sum to 300M: one of 256M at a time
$t->function('mem1', "exec = $fn\ntenant = memt\nmemory = 256M\n");
$t->function('mem2', "exec = $fn\ntenant = memt\nmemory = 256M\n"
             . "queue_timeout = 1s\n");
# one bigger than its tenant may ever hold: never room for it
$t->function('memhuge', "exec = $fn\ntenant = memt\nmemory = 512M\n"
             . "queue_timeout = 1s\n");

my $conf = "tenant.limited.max_instances = 2\nlimit_instances = 64\n"
         . "tenant.$dot.max_instances = 3\n"
         . "tenant.memt.max_memory = 300M\n";

# --test: every refusal with its file and line
{
    my $cf = $t->prefix . '/test.conf';
    FaasTest::write_file($cf, $t->runner_conf_text($conf));
    my $out = `$FaasTest::RUNNER --config $cf --test 2>&1`;
    my $dir = $t->functions_dir;
    isnt($? >> 8, 0, '--test fails');
    like($out, qr{\Q$dir\E/claimuser/function.conf:3: "user = root" in a folder owned by "daemon"},
         'user: file and line');
    like($out, qr{claimgroup/function.conf:2: "group = disk"},
         'group: file and line');
    like($out, qr{claimtenant/function.conf:3: "tenant = carol"},
         'tenant: file and line');
    like($out, qr{dotroot/function.conf:3: invalid tenant "j\.doe": 1-64 characters of A-Z a-z 0-9 _ - \(a "\." only in the name of the user it runs as\)},
         'a "." in a tenant that is not its user\'s name: file and line');
    unlike($out, qr{dotted2?/|dotuser/}, '... in its user\'s name: fine');
    like($out, qr{greedy/function.conf:2: memory 0 bytes is over limit_memory},
         'memory = 0 over the cap');
    like($out, qr{forky/function.conf:2: max_processes 4000000 is over limit_processes 1024},
         'max_processes over the default cap');
    like($out, qr{fdhog/function.conf:2: max_files 1048576 is over limit_files 65536},
         'max_files over the default cap');
    like($out, qr{hoarder/function.conf:2: async_max_queued 0 is over limit_async_queued 100000},
         'async_max_queued = 0 (no bound) over the default cap');
    like($out, qr{hoarder2/function.conf:2: async_max_queued 200000 is over limit_async_queued 100000},
         'async_max_queued over the default cap');
    like($out, qr{slowpoke/function.conf:2: timeout 600000 ms is over limit_timeout 300000 ms},
         'timeout over the cap');
    like($out, qr{memhuge/function.conf: memory 524288K is over the max_memory of its tenant "memt" \(307200K\): no worker of it starts, a request none serves is a 503},
         'a function bigger than its tenant\'s max_memory: said');
    like($out, qr{crowd/function.conf:2: max_instances 500 is over limit_instances 64},
         'max_instances over the cap the operator set, its own file too');
    unlike($out, qr{opbig/function.conf},
           'the operator\'s own over the default caps: what it says');
    # (a customer's 0755 folder is warned about, not refused)
    unlike(join("\n", grep { !/other users may read/ } split /\n/, $out),
           qr{"(alice|bob|carol|plain)"}, 'the others are fine');
    ok(!-e $t->prefix . '/state/dynamic-users', '--test assigns no uid');
}

# a value over a cap that no function.conf set: the runner config's
# default is told by its own file and line, the runner's by the key
{
    my $cf = $t->prefix . '/caps.conf';
    FaasTest::write_file($cf, $t->runner_conf_text(
        "$conf\nlimit_timeout = 1m\ntimeout = 2m\nlimit_memory = 128M\n"));
    my $out = `$FaasTest::RUNNER --config $cf --test 2>&1`;
    my $dir = $t->functions_dir;
    isnt($? >> 8, 0, 'caps: --test fails');
    my ($line) = $out =~ m{^.*\Q$cf\E:(\d+): timeout 120000 ms, the default of function "plain", is over limit_timeout 60000 ms \(set timeout lower here or in \Q$dir\E/plain/function\.conf\)$}m;
    ok($line, "a runner config's default over a cap: its file and line")
        or diag $out;
    is((split /\n/, FaasTest::read_file($cf))[($line // 1) - 1],
       'timeout = 2m', '... the line that set it');
    unlike($out, qr{plain/function\.conf.*memory}, "the runner's own "
           . "default over a cap: no refusal (lowered to it, below)");
    unlike($out, qr{function\.conf:0:}, 'no line 0');
}

# caps under the runner's own defaults: a function that asks for nothing
# gets the cap (max_files 1024 under limit_files 1000, ...), not refused
{
    my $t2 = FaasTest->new;
    $t2->function('asks_nothing', "exec = $fn\n");
    $t2->function('asks_more', "exec = $fn\nmax_instances = 4\n");
    $t2->start_runner(conf => "limit_files = 1000\nlimit_memory = 128M\n"
                      . "limit_instances = 3\nlimit_timeout = 20s\n");
    my $s = `$FaasTest::RUNNER status --listen unix:@{[ $t2->socket_path ]} --format json 2>&1`;
    my $j = eval { decode_json($s) } // {};
    my ($f) = grep { $_->{name} eq 'asks_nothing' } @{ $j->{functions} // [] };
    is($f->{limits}{max_instances}, 3, 'max_instances 4 (default) under '
       . 'limit_instances 3: 3') or diag $s;
    is($f->{limits}{memory_bytes}, 128 << 20, '... memory 256M: 128M');
    is($f->{limits}{timeout_seconds}, 20, '... timeout 30s: 20s');
    ok(!grep({ $_->{name} eq 'asks_more' } @{ $j->{functions} // [] }),
       'one that asks for more is refused');
    like($t2->runner_log, qr{asks_more/function\.conf:2: max_instances 4 is over limit_instances 3},
         '... with its file and line');
    $t2->done;
}

$t->start_runner(conf => $conf);
my $log = $t->prefix . '/logs/meter.log';
$t->start_nginx("    log_format m 'fn=\$faas_function tenant=\$faas_tenant';\n"
                . $t->faas_location(location => "access_log $log m;"));

sub uid_of {
    my ($name) = @_;
    my $r = $t->http_get("/fn/$name?op=env");
    return undef unless $r && $r->{status} == 200;
    return $r->{body} =~ /^UID (\d+)$/m ? $1 : undef;
}

is(uid_of('alice'), $d_uid, "a folder owned by daemon runs as daemon");
is(uid_of('bob'), $g_uid, '... and games as games (tenant = its name)');

my %uid = map { $_ => uid_of($_) } qw(carol carol2 dave plain);
for my $n (qw(carol dave plain)) {
    ok(defined $uid{$n} && $uid{$n} >= 61184 && $uid{$n} <= 65519
       && !defined getpwuid($uid{$n}) && !defined getgrgid($uid{$n}),
       "$n: a dynamic uid, in no database (" . ($uid{$n} // 'none') . ')');
}
is($uid{carol2}, $uid{carol}, 'one dynamic user per tenant');
isnt($uid{dave}, $uid{carol}, 'never shared between tenants');
isnt($uid{plain}, $uid{carol}, 'the default tenant has its own');

is($t->http_get('/fn/lead')->{status}, 200, 'tenant "_lead": loaded, served');
ok(uid_of('lead'), '... as a dynamic user of its own');
like(FaasTest::read_file($t->prefix . '/state/dynamic-users'),
     qr/^_lead \d+$/m, '... kept under its name');
is(uid_of('dotted'), $dot_uid, "user \"$dot\"'s folder: served as it");
is(uid_of('dotted2'), $dot_uid, '... "tenant" its name: the same');
is(uid_of('dotuser'), $dot_uid, '... root\'s folder with "user" and '
   . '"tenant" its name: the same');
{
    my $st = `$t->{runner_bin} status --listen unix:@{[ $t->socket_path ]} --format json --tenant $dot 2>&1`;
    my $j = eval { decode_json($st) } // {};
    is($j->{tenants}[0]{max_instances} // $j->{tenants}[0]{limits}{max_instances},
       3, "... its tenant.$dot.max_instances taken") or diag($st);
    is(scalar @{ $j->{functions} // [] }, 3, '... its three functions');
}
is($t->http_get('/fn/dotroot')->{status}, 404,
   'root\'s folder, "tenant = j.doe" with no such user: not loaded');

for my $n (qw(claimuser claimgroup claimtenant greedy slowpoke crowd forky
              fdhog)) {
    is($t->http_get("/fn/$n")->{status}, 404, "$n: refused, not loaded");
}

# stable across a restart
$t->stop_runner;
$t->start_runner(conf => $conf);
is(uid_of('carol'), $uid{carol}, 'the same dynamic user after a restart');
is(uid_of('dave'), $uid{dave}, '... for every tenant');
like(FaasTest::read_file($t->prefix . '/state/dynamic-users'),
     qr/^carol $uid{carol}$/m, 'kept in state_dir/dynamic-users');

# a uid an older runner gave a name no longer a tenant's ("-", refused
# now): kept, never another tenant's (its files in /tmp are its); carol
# loses hers to it here, and gets another
{
    my $file = $t->prefix . '/state/dynamic-users';
    $t->stop_runner;
    my $text = FaasTest::read_file($file);
    $text =~ s/^carol (\d+)$/- $1/m;
    FaasTest::write_file($file, $text);
    $t->start_runner(conf => $conf);
    my $new = uid_of('carol');
    ok($new && $new != $uid{carol}, "carol: a new uid ($new), not the one "
       . "'-' keeps ($uid{carol})");
    like(FaasTest::read_file($file), qr/^- $uid{carol}$/m,
         "... '-' keeps it in the file");
    like($t->runner_log, qr/dynamic user $uid{carol} of "-", no tenant's name now, is kept/,
         '... said');
    $uid{carol} = $new;
}

# billed to the real tenant
ok(FaasTest::wait_for(sub { FaasTest::read_file($log) =~ /fn=dave/ }, 5),
   'access log written');
my $meter = FaasTest::read_file($log);
like($meter, qr/^fn=alice tenant=daemon$/m, 'alice billed to daemon');
like($meter, qr/^fn=bob tenant=games$/m, 'bob billed to games');
like($meter, qr/^fn=carol2 tenant=carol$/m, 'carol2 billed to carol');
like($meter, qr/^fn=plain tenant=default$/m, 'plain billed to default');

# a tenant at its limit: its third request waits, then 503; others fine
{
    my @busy = map { $t->http_start("/fn/lim$_?op=sleep&ms=3000") } 1, 1;
    sleep 0.5;
    my $t0 = time;
    my $r = $t->http_get('/fn/lim2', timeout => 10);
    my $took = time - $t0;
    is($r && $r->{status}, 503, 'over its tenant limit: 503');
    ok($took > 1.5, sprintf('after its queue_timeout (%.1f s)', $took));
    like($t->runner_log, qr/function "lim2": no worker within queue_timeout \(its tenant "limited" at its max_instances, 2\)/,
         '... the log says which bound held it (a stranger: it did not)');
    $t0 = time;
    is($t->http_get('/fn/dave')->{status}, 200, 'another tenant answers');
    ok(time - $t0 < 1, 'at once');
    FaasTest::http_finish($_, timeout => 10) for @busy;
}

# the limit frees an idle worker of the tenant's other function
{
    is($t->http_get('/fn/lim1')->{status}, 200, 'lim1 warm');
    is($t->http_get('/fn/lim1')->{status}, 200, 'lim1 again');
    my $r = $t->http_get('/fn/lim2', timeout => 15);
    is($r && $r->{status}, 200, 'lim2 served: idle lim1 workers made room');
}

# tenant_max_memory: the sum of the live workers' memory
{
    is($t->http_get('/fn/mem1')->{status}, 200, 'mem1 (256M) runs');
    my ($w) = $t->workers('mem1');
    is($t->http_get('/fn/memhuge', timeout => 20)->{status}, 503,
       'one over its tenant\'s max_memory: 503, a limit\'s answer');
    ok($w && kill(0, $w), '... stopping no idle worker for it');
    is($t->http_get('/fn/mem2', timeout => 15)->{status}, 200,
       'mem2 (256M) runs once idle mem1 made room');
    my $busy = $t->http_start('/fn/mem2?op=sleep&ms=2500');
    sleep 0.5;
    my $t0 = time;
    my $r = $t->http_get('/fn/mem1', timeout => 10);
    my $took = time - $t0;
    is($r && $r->{status}, 200,
       'with mem2 busy, mem1 waits, then runs when mem2 is idle');
    ok($took > 1.5 && $took < 8, sprintf('... as mem2\'s worker went idle, '
                                         . 'not at its queue_timeout '
                                         . '(%.1f s)', $took));
    FaasTest::http_finish($busy, timeout => 10);
    like($t->runner_log, qr/the limits of tenant memt reached: stopping idle worker \d+ of "mem1" for "mem2"/,
         'the eviction is logged');
}

$t->done;

done_testing;
