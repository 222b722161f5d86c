#!/usr/bin/perl

# fcgi-runner store migrate: makes the store (SQLite in state_dir) or
# brings it to this version's schema and checks it, before a runner
# starts on it; run again it changes nothing. A damaged store is a clear
# failure, not a new empty one. The runner key "store": "sqlite" or a
# PostgreSQL URI (postgresql:// or postgres://); anything else is
# refused by the runner, --test, migrate and invocations alike, and no
# command ever prints the URI's password.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;
my $p = $t->prefix;
my $bin = $t->{runner_bin};
my $fn = $t->testfn;

sub run {
    my $out = `timeout 20 $bin @_ 2>&1`;
    return ($? >> 8, $out);
}

# a fresh state_dir: made, 0700, with the schema
my ($rc, $out) = run('store', 'migrate', '--state-dir', "$p/state");
is($rc, 0, 'store migrate on nothing: exit 0');
like($out, qr/store: sqlite "\Q$p\E\/state\/async\.db": schema up to date/,
     '... saying which store');
ok(-f "$p/state/async.db", '... the store is there');
is((stat "$p/state")[2] & 07777, 0700, '... in a state_dir of 0700');
like(`sqlite3 -readonly $p/state/async.db .tables 2>&1`,
     qr/invocations.*schedules|schedules.*invocations/s,
     '... with its tables');
($rc) = run('store', 'migrate', '--state-dir', "$p/state");
is($rc, 0, 'again: exit 0, nothing lost');

# the runner on it: an invocation accepted, then listed by the command
$t->function('hello', "exec = $fn\n");
$t->start_runner;
my $r = $t->fcgi_call('hello', params => [FAAS_INVOCATION => 'async',
                                          REQUEST_METHOD => 'POST']);
like($r->{stdout}, qr/^Status: 202/m, 'the runner accepts an async call');
ok(FaasTest::wait_for(sub {
       (run('invocations', '--config', "$p/runner.conf"))[1]
           =~ /hello\s+async\s+succeeded/ }, 15),
   '... run, and listed from the migrated store');
is($t->stop_runner, 0, 'runner stops');
($rc) = run('store', 'migrate', '--config', "$p/runner.conf");
is($rc, 0, 'migrate with the runner\'s config: exit 0');
like((run('invocations', '--config', "$p/runner.conf"))[1],
     qr/hello\s+async\s+succeeded/, '... the invocation is still there');

# a damaged store: a failure saying so, the file left as it was
mkdir "$p/bad";
FaasTest::write_file("$p/bad/async.db", "not a database\n" x 100);
($rc, $out) = run('store', 'migrate', '--state-dir', "$p/bad");
is($rc, 1, 'a damaged store: exit 1');
like($out, qr/async\.db.*(?:not a database|damaged|cannot)/,
     '... naming the file');
is(FaasTest::read_file("$p/bad/async.db"), "not a database\n" x 100,
   '... which is left untouched');

# a store whose file is a database, one of its pages damaged: the
# reason is what SQLite's check found, never its step's "another row"
mkdir "$p/page";
run('store', 'migrate', '--state-dir', "$p/page");
open(my $db, '+<', "$p/page/async.db") or die "async.db: $!";
binmode $db;
seek($db, 4096, 0);
print $db "\x0d\x00\x00\x00\x05\x0f\xf0\x00";  # page 2: 5 cells, none
close $db;
($rc, $out) = run('store', 'migrate', '--state-dir', "$p/page");
is($rc, 1, 'a damaged page: exit 1');
like($out, qr/async\.db" is damaged: \*\*\* in database main \*\*\*.*page 2/,
     '... said by what the check found');
unlike($out, qr/another row available/, '... not by SQLite\'s step code');

# a store cut to 0 bytes (truncated, a copy gone wrong): SQLite takes
# such a file for a new database, and the runner started over empty,
# its queue gone without a word. Refused as damaged is, left as it was
mkdir "$p/empty";
run('store', 'migrate', '--state-dir', "$p/empty");
ok(-s "$p/empty/async.db", 'a store made');
truncate("$p/empty/async.db", 0) or die "truncate: $!";
unlink "$p/empty/async.db-wal", "$p/empty/async.db-shm";
my $econf = $t->runner_conf_text("state_dir = $p/empty\n");
FaasTest::write_file("$p/empty.conf", $econf);
for my $cmd (['--config', "$p/empty.conf"],
             ['store', 'migrate', '--state-dir', "$p/empty"],
             ['invocations', '--state-dir', "$p/empty"]) {
    ($rc, $out) = run(@$cmd);
    is($rc, 1, "a store of 0 bytes: @$cmd[0 .. 1] exits 1");
    like($out, qr/the store "\Q$p\E\/empty\/async\.db" is empty \(0 bytes\): move it away/,
         '... saying so');
}
is(-s "$p/empty/async.db", 0, '... the file left as it was');
ok(!-e "$p/empty/async.db-wal", '... no log made beside it');

# a first store that cannot be made (a full disk: SQLite makes its file,
# then cannot write its first page): no file of 0 bytes left behind,
# which every later start refused as a store cut away; once there is
# room it is made
SKIP: {
    my $mnt = "$p/full";
    mkdir $mnt;
    skip 'no tmpfs here', 5
        if system('mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', $mnt);
    mkdir "$mnt/state", 0700;
    system("dd if=/dev/zero of=$mnt/fill bs=4k count=256 2>/dev/null");
    ($rc, $out) = run('store', 'migrate', '--state-dir', "$mnt/state");
    is($rc, 1, 'a store on a full disk: exit 1');
    like($out, qr/async\.db/, '... naming it');
    ok(!-e "$mnt/state/async.db", '... no empty file left behind')
        or diag `ls -la $mnt/state`;
    unlink "$mnt/fill";
    ($rc, $out) = run('store', 'migrate', '--state-dir', "$mnt/state");
    is($rc, 0, 'room again: the store is made') or diag $out;
    ok(-s "$mnt/state/async.db", '... with its first page');
    system('umount', $mnt);
}

# a user who cannot enter the state_dir (a tenant on the host): refused,
# and said so, not "the store is missing"
{
    my $copy = $t->program($bin);
    my $err = `setpriv --reuid=65534 --regid=65534 --clear-groups $copy invocations --state-dir $p/state 2>&1`;
    is($? >> 8, 1, 'invocations as nobody, the state_dir 0700: exit 1');
    like($err, qr/cannot reach the store "\Q$p\E\/state\/async\.db" \(13: Permission denied\)/,
         '... saying it cannot reach it');
}

# usage
($rc) = run('store');
is($rc, 2, 'store without a subcommand: usage, 2');
($rc) = run('store', 'frobnicate');
is($rc, 2, 'an unknown subcommand: 2');
($rc) = run('store', 'migrate', 'extra');
is($rc, 2, 'an extra argument: 2');

# store = a PostgreSQL URI, or nonsense: refused, never the password
# a PostgreSQL URI is a store (t/store_contract.t, t/store_pg_fleet.t):
# one that cannot be reached fails the commands that wait for it, and
# its password is never printed
for my $store ('postgresql://faas:s3cr3t-pw@db.invalid/faas?sslmode=require',
               'postgres://faas:s3cr3t-pw@db.invalid/faas') {
    my $conf = $t->runner_conf_text("store = $store\n");
    FaasTest::write_file("$p/pg.conf", $conf);
    my ($rc2, $o2) = run('--config', "$p/pg.conf", '--test');
    is($rc2, 0, "store = $store: --test takes it");
    my ($rc3, $o3) = run('store', 'migrate', '--config', "$p/pg.conf");
    is($rc3, 1, '... migrate fails, unreachable');
    my ($rc4, $o4) = run('invocations', '--config', "$p/pg.conf");
    is($rc4, 1, '... invocations fails');
    like("$o3$o4", qr/cannot connect to the PostgreSQL store/,
         '... saying why');
    unlike("$o2$o3$o4", qr/s3cr3t/, '... never printing the password');
}

for my $store ('PostgreSQL://faas:s3cr3t-pw@db/faas',
               # libpq's own error would quote these
               'postgresql://faas:s3cr3t-pw%zz@db/faas',
               'postgresql://faas:s3cr3t-pw@db/faas?bogus_option=1',
               "'postgresql://faas:s3cr3t-pw\@db/faas'",
               'host=db user=faas password=s3cr3t-pw',
               'mysql://u:s3cr3t-pw@x', 'bogus') {
    my $conf = $t->runner_conf_text("store = $store\n");
    FaasTest::write_file("$p/bad.conf", $conf);
    my ($rc1, $o1) = run('--config', "$p/bad.conf");
    is($rc1, 1, "store = $store: the runner does not start");
    my ($rc2, $o2) = run('--config', "$p/bad.conf", '--test');
    is($rc2, 1, '... --test finds it');
    my ($rc3, $o3) = run('store', 'migrate', '--config', "$p/bad.conf");
    is($rc3, 1, '... migrate refuses');
    my ($rc4, $o4) = run('invocations', '--config', "$p/bad.conf");
    is($rc4, 1, '... invocations refuses');
    my $all = "$o1$o2$o3$o4";
    like($all, qr/store/, '... saying store');
    unlike($all, qr/s3cr3t/, '... never printing the password');
}

# values libpq reads only as it connects: found by --test and at start,
# each said by its name, never its value: a password with a slash in it
# is read as a host and a port ("faas:s3cr3t/pw@db": port "s3cr3t")
for my $case (['?port=notaport', qr/its port is no port/],
              [':99999', qr/its port is no port/],
              ['?port=5432,x', qr/its port is no port/],
              ['/pw', qr/its port is no port .* percent-encoded \(%2F, (?x)
                         %3F,\ %23,\ %40\)/],
              ['?connect_timeout=soon',
               qr/its connect_timeout is no number of seconds/],
              ['?sslmode=required',
               qr/its sslmode is none of disable, allow, prefer, (?x)
                  require,\ verify-ca,\ verify-full/],
              ['?target_session_attrs=rw',
               qr/its target_session_attrs is none of any, read-write/],
              # "p@ss": the password's tail read as the host; "2024/x":
              # a port, and the rest in the database name
              ['p@ss', qr/its host has an "@": a password with "@" (?x)
                          or\ "\/"\ must\ be\ percent-encoded/],
              ['2024/', qr/its dbname has an "@"/]) {
    my ($tail, $says) = @$case;
    my $store = $tail eq '/pw' ? 'postgresql://faas:s3cr3t-pw/pw@db/faas'
                : $tail eq 'p@ss' ? 'postgresql://faas:s3cr3t@pw@db/faas'
                : $tail eq '2024/' ? 'postgresql://faas:2024/s3cr3t@db/faas'
                : 'postgresql://faas:s3cr3t-pw@db' . ($tail =~ /^:/ ? $tail
                : '') . '/faas' . ($tail =~ /^\?/ ? $tail : '');
    FaasTest::write_file("$p/bad.conf",
                         $t->runner_conf_text("store = $store\n"));
    my ($rc1, $o1) = run('--config', "$p/bad.conf", '--test');
    is($rc1, 1, "store = $store: --test finds it");
    like($o1, $says, '... saying what');
    unlike($o1, qr/s3cr3t|pw\@db|notaport|99999|soon|required|"rw"/,
           '... never the password, nor the value');
    my ($rc2) = run('--config', "$p/bad.conf");
    is($rc2, 1, '... the runner does not start');
}
for my $tail ('?port=5432,&sslmode=verify-full&target_session_attrs=any',
              '?port=%205433%20&connect_timeout=10&gssencmode=disable') {
    FaasTest::write_file("$p/good.conf", $t->runner_conf_text(
        "store = postgresql://faas\@db.invalid/faas$tail\n"));
    my ($rc) = run('--config', "$p/good.conf", '--test');
    is($rc, 0, "store = ...$tail: --test takes it");
}

# sqlite, said outright, is the default
FaasTest::write_file("$p/ok.conf", $t->runner_conf_text("store = sqlite\n"));
($rc) = run('--config', "$p/ok.conf", '--test');
is($rc, 0, 'store = sqlite: fine');

# libpq is loaded when a store names PostgreSQL, never before: a runner
# on SQLite maps none of it (nor TLS, Kerberos, LDAP behind it)
sub maps_libpq { FaasTest::read_file("/proc/$_[0]/maps") =~ /libpq\.so/ }
$t->start_runner;
ok(!maps_libpq($t->runner_pid), 'a runner on SQLite has no libpq mapped');
$t->stop_runner;
$t->start_runner(conf => "store = postgresql://faas\@127.0.0.1:1/faas\n");
ok(maps_libpq($t->runner_pid), 'a runner on PostgreSQL has it');
is($t->stop_runner, 0, '... and stops cleanly, the store unreachable');

# the invocations of a store that cannot be reached: why, on stderr,
# exit 1, and no list (nor its head) on stdout
FaasTest::write_file("$p/down.conf", $t->runner_conf_text(
    "store = postgresql://faas\@127.0.0.1:1/faas\n"));
for my $format ('table', 'json') {
    my $out = `timeout 20 $bin invocations --config $p/down.conf --format $format 2>$p/down.err`;
    is($? >> 8, 1, "invocations, the store unreachable ($format): exit 1");
    is($out, '', '... nothing on stdout');
    like(FaasTest::read_file("$p/down.err"),
         qr/cannot connect to the PostgreSQL store/, '... why on stderr');
}

# without libpq on the host: a PostgreSQL store is refused, saying what
# is missing; SQLite works as before (libpq hidden in a mount namespace)
my ($libpq) = `ldconfig -p` =~ /libpq\.so\.5 \(libc6,x86-64\) => (\S+)/;
SKIP: {
    skip 'libpq.so.5 not in ldconfig\'s cache', 4 unless $libpq;
    FaasTest::write_file("$p/pg.conf", $t->runner_conf_text(
        "store = postgresql://faas\@127.0.0.1:1/faas\n"));
    my $hide = "mount --bind /dev/null $libpq &&";
    my $o = `timeout 20 unshare -m sh -c '$hide $bin --config $p/pg.conf --test' 2>&1`;
    isnt($? >> 8, 0, 'no libpq: --test refuses a PostgreSQL store');
    like($o, qr/a PostgreSQL store needs libpq \(Debian's package libpq5\)/,
         '... saying which package');
    $o = `timeout 20 unshare -m sh -c '$hide $bin store migrate --config $p/pg.conf' 2>&1`;
    like($o, qr/needs libpq/, '... store migrate says so too');
    $o = `timeout 20 unshare -m sh -c '$hide $bin --config $p/ok.conf --test' 2>&1`;
    is($? >> 8, 0, '... and SQLite needs none of it') or diag $o;
}

done_testing;
