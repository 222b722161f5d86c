#!/usr/bin/perl

# The async store holds whole requests and responses of every tenant:
# state_dir and what is in it are the runner's alone (0700, 0600), made
# so (umask 077 for the runner) and repaired at start when looser
# (logged at warn); a state_dir of another owner stops the start. A
# customer's function (its folder owned by "daemon", no isolation: the
# modes are the wall) tries to read the store and gets EACCES, while it
# still reads its own folder and creates files with the usual umask.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use File::Path qw(make_path);
use Test::More;

FaasTest::need_root('the store against a tenant');

my $t = FaasTest->new;
my $state = $t->prefix . '/state';
my ($d_uid, $d_gid) = (getpwnam('daemon'))[2, 3];

my $dir = $t->function('snoop', "exec = ./run.sh\nmode = cgi\n"
                       . "isolation = none\nenv.STATE = $state\n",
                       'run.sh' => <<'EOF');
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
echo "uid $(id -u)"
for f in "$STATE/async.db" "$STATE/async.db-wal" "$STATE/async.db-shm" \
         "$STATE/dynamic-users"; do
    if cat "$f" >/dev/null 2>&1; then echo "READ $f"; fi
done
ls "$STATE" >/dev/null 2>&1 && echo "LISTED $STATE"
cat "$STATE/async.db" 2>&1 >/dev/null | sed 's/^/err /'
head -c 4 ./function.conf && echo " own folder"
rm -f out/new; : > out/new; stat -c 'new %a' out/new
EOF
make_path("$dir/out");
system('chown', '-R', "$d_uid:$d_gid", $dir) == 0 or die "chown: $?";

# a dynamic tenant: dynamic-users is written
$t->function('rec', "exec = ./run.sh\nmode = cgi\ntenant = acme\n",
             'run.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain"
                         . "\\r\\n\\r\\nok\\n'\n");

# an older runner's state_dir: 0755 with a 0644 file in it
make_path($state);
chmod 0755, $state;
FaasTest::write_file("$state/dynamic-users", '');
chmod 0644, "$state/dynamic-users";

# its function turns isolation off: the floor lowered
$t->start_runner(conf => "limit_isolation = none\n");

like($t->runner_log, qr/\[warn\] .*state_dir "\Q$state\E" was mode 0755: now 0700/,
     'a loose state_dir: repaired, logged at warn');
like($t->runner_log, qr/\[warn\] .*"\Q$state\E\/dynamic-users" was mode 0644: now 0600/,
     '... and a loose file in it');

# something in the store, its log open
my $r = $t->fcgi_call('rec', params => [FAAS_INVOCATION => 'async',
                                        REQUEST_METHOD => 'POST'],
                      stdin => 'Authorization: secret');
like($r->{stdout}, qr/^Status: 202/m, 'an async invocation stored');
ok(FaasTest::wait_for(sub { -e "$state/async.db-wal" }, 10), 'its WAL');
is($t->fcgi_call('rec')->{http}{status} // 200, 200, 'the dynamic tenant ran');

my %mode = map { $_ => sprintf('%o', (stat "$state/$_")[2] & 07777) }
           qw(async.db async.db-wal async.db-shm dynamic-users);
is(sprintf('%o', (stat $state)[2] & 07777), '700', 'state_dir 0700');
is_deeply(\%mode, { map { $_ => '600' }
                    qw(async.db async.db-wal async.db-shm dynamic-users) },
          'its files 0600');
is((stat "$state/async.db")[4], $>, "... owned by the runner's user");

my $out = $t->fcgi_call('snoop')->{stdout};
like($out, qr/^uid $d_uid$/m, 'the customer function runs as daemon');
unlike($out, qr/^(READ|LISTED) /m, 'it reads nothing of the store')
    or diag($out);
like($out, qr/^err cat: .*async\.db: Permission denied$/m, '... EACCES');
like($out, qr/^exec own folder$/m, 'it still reads its own folder');
like($out, qr/^new 644$/m, "its files get the operator's umask, not 077");

# a state_dir of another owner: the runner does not start on it
$t->stop_runner;
chown $d_uid, $d_gid, $state;
my $cf = $t->prefix . '/runner.conf';
my $o = `$FaasTest::RUNNER --config $cf 2>&1 </dev/null & sleep 3; kill \$! 2>/dev/null`;
like($o, qr/\[emerg\] .*state_dir "\Q$state\E" is owned by uid $d_uid/,
     'a state_dir of another owner: refused at start');
chown 0, 0, $state;

$t->done;

done_testing;
