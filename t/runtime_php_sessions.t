#!/usr/bin/perl

# runtime = php keeps sessions in a folder of the function user's own,
# made by the runner in one of root's, /var/lib/php/faas-sessions
# (beside Debian's /var/lib/php/sessions), not in the function's private
# /tmp, which goes with its prototype: a visitor stays logged in across
# a deploy (the function changed, SIGHUP: a new prototype) and across
# the prototype's prototype_idle_timeout. The hostile twins: a function
# of another user who knows the session's id can neither read its file
# nor list the folders, nor make a folder there for a uid before it,
# and the same id sent to it is a session of its own (it cannot take
# ours by making its file first, nor we its); a folder made in Debian's
# sticky folder first (where anyone may) changes nothing; a folder
# loosened is made the user's own again at the next start.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep);

FaasTest::need(-x "$FaasTest::BUILD/faas-php",
               'faas-php (make, with php8.2-dev and libphp8.2-embed)');
FaasTest::need_root('a function of its own user, with a private /tmp');

my $dir = '/var/lib/php/faas-sessions';
my @st = stat '/var/lib/php';
FaasTest::need(@st && $st[4] == 0 && !($st[2] & 022),
               "/var/lib/php, root's (php-common)");
my $had = -e $dir;

my $t = FaasTest->new;
my $conf = "runtime = php\nscript = s.php\nidle_timeout = 1s\n";
my $fdir = $t->function('shop', $conf, 's.php' => <<'EOF');
<?php
session_start();
$_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1;
header('Content-Type: text/plain');
echo "visit {$_SESSION['n']} ", session_save_path(), "\n";
EOF
$t->function('spy', "runtime = php\nscript = s.php\nuser = nobody\n",
             's.php' => <<'EOF');
<?php
header('Content-Type: text/plain');
if (isset($_GET['mine'])) {
    session_start();
    $_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1;
    echo "spy visit {$_SESSION['n']}\n";
    exit;
}
$d = basename($_GET['dir'] ?? '');
$f = "/var/lib/php/faas-sessions/$d/sess_" . basename($_GET['id'] ?? '');
echo @file_get_contents($f) === false ? "unread" : "READ", " ";
echo @scandir("/var/lib/php/faas-sessions/$d") === false ? "unlisted"
                                                         : "LISTED", " ";
echo @scandir('/var/lib/php/faas-sessions') === false ? "unlisted" : "LISTED";
$u = basename($_GET['uid'] ?? '');
echo @mkdir("/var/lib/php/faas-sessions/$u") ? " MADE" : " unmade";
echo @mkdir("/var/lib/php/sessions/faas-$u") ? " squatted" : " refused";
echo "\n";
EOF

$t->start_runner(conf => "prototype_idle_timeout = 2s\n");
$t->start_nginx($t->faas_location);

my $cookie = '';
my $visit = sub {
    my $r = $t->http_get('/fn/shop/', timeout => 30,
                         headers => $cookie ? "Cookie: $cookie\r\n" : '');
    ($cookie) = (FaasTest::header($r, 'set-cookie') // '') =~ /^([^;]+)/
        if !$cookie;
    return $r->{body} // '';
};
my $protos = sub {
    my %p = map { $_ => 1 } $t->runner_log =~ /prototype (\d+) of "shop" started/g;
    return scalar keys %p;
};

my ($sdir) = $visit->() =~ m{^visit 1 ($dir/\d+)$};
ok($sdir, "a session, in a folder of the function user's own in $dir")
    or diag($t->runner_log);
$sdir //= 'none';
like($cookie, qr/^PHPSESSID=[-,a-zA-Z0-9]+$/, 'its cookie');
is($visit->(), "visit 2 $sdir\n", 'kept');
my ($id) = $cookie =~ /=(.*)/;
my @d = stat $sdir;
ok(@d && ($d[2] & 07777) == 0700 && $d[4] != 0, 'the folder is 0700, '
   . 'the function user\'s');
my @f = stat "$sdir/sess_$id";
ok(@f && ($f[2] & 07777) == 0600 && $f[4] == $d[4],
   'the file is 0600, the function user\'s') or diag(sprintf '%o %d',
   $f[2] // 0, $f[4] // -1);
my $made = $protos->();
cmp_ok($made, '>=', 1, 'its prototype was made');
my @p = stat $dir;
ok(@p && ($p[2] & 07777) == 0711 && $p[4] == 0, "$dir is root's, 0711");

# another user: the folders, the id, a folder for a uid
my ($leaf) = $sdir =~ m{([^/]+)$};
like($t->http_get("/fn/spy/?id=$id&dir=$leaf&uid=$leaf")->{body},
     qr/^unread unlisted unlisted unmade (squatted|refused)\n$/,
     'another user can neither read the session, list the folders nor '
     . 'make one for a uid (in Debian\'s folder anyone may)');
my $squat = "/var/lib/php/sessions/faas-$leaf";

# the user loosens its folder (or an operator does): its own again at
# the next start; a session older than gc_maxlifetime (24 min) is swept
# at that start (no cron sweeps this folder)
chmod 0777, $sdir;
FaasTest::write_file("$sdir/sess_expired", "n|i:7;");
FaasTest::write_file("$sdir/sess_young", "n|i:8;");
chown $d[4], $d[5], "$sdir/sess_expired", "$sdir/sess_young";
utime time - 7200, time - 7200, "$sdir/sess_expired";

# a deploy: the function changed, a new prototype
FaasTest::write_file("$fdir/function.conf", "$conf# deployed again\n");
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { $t->runner_log =~ /reloading "/ }, 10),
   'the runner reloads');
sleep 0.5;
is($visit->(), "visit 3 $sdir\n", 'after a deploy the visitor is still known');
@d = stat $sdir;
is(sprintf('%o', $d[2] & 07777), '700', '... its folder 0700 again, '
   . 'the squat in Debian\'s folder of no account');
ok(!-e "$sdir/sess_expired" && -e "$sdir/sess_young",
   '... the expired session swept at its start, the young one kept');
cmp_ok($protos->(), '>', $made, '... served by a new prototype');
$made = $protos->();

# the prototype's idle timeout: its /tmp would be gone with it
ok(FaasTest::wait_for(sub { !$t->workers('shop') }, 15), 'scaled to zero');
my ($proto) = $t->runner_log =~ /.*prototype (\d+) of "shop" started/s;
ok(FaasTest::wait_for(sub { !FaasTest::proc_alive($proto) }, 20),
   'its prototype (and its /tmp) is gone after prototype_idle_timeout');
is($visit->(), "visit 4 $sdir\n",
   'after prototype_idle_timeout too');
cmp_ok($protos->(), '>', $made, '... served by a new prototype');

is($t->http_get('/fn/spy/?mine', headers => "Cookie: $cookie\r\n")->{body},
   "spy visit 1\n", 'the same id sent to it: a session of its own');
is($visit->(), "visit 5 $sdir\n", 'and ours is untouched');

# the uid's folder found another's (an earlier user of a reused uid, an
# operator's chown): not given back, and no other folder taken
chown 65534, 65534, $sdir;
FaasTest::write_file("$fdir/function.conf", "$conf# and again\n");
my $mark = length $t->runner_log;
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { substr($t->runner_log, $mark)
                            =~ /PHP sessions of "shop" stay in its \/tmp/ },
                      10), 'a uid\'s folder that is another\'s: said');
$cookie = '';
is($visit->(), "visit 1 /tmp\n", '... its sessions in its /tmp, not there');
my @o = stat $sdir;
is($o[4], 65534, '... nor the folder given to the uid');

system('rm', '-rf', $sdir) if $sdir =~ m{^$dir/\d+$};
system('rm', '-rf', "$dir/65534");
rmdir $dir if !$had;
my @q = stat $squat;
rmdir $squat if @q && $q[4] == 65534;
$t->done;
done_testing;
