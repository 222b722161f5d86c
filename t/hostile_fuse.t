#!/usr/bin/perl

# A file system a user mounts says what it likes: a customer allowed
# FUSE mounts others may enter (fusermount3 with "user_allow_other")
# mounts bindfs over its own files with every file shown as root's,
# and a folder there says "user = root". Promise: a folder (or a
# program) on a FUSE file system a user mounted is not loaded, and the
# log says so; one root mounted is believed (the twin). The mounts are
# made as fusermount3 makes them (the user's uid in "user_id=", the
# daemon running as the user, on the /dev/fuse descriptor it is given),
# by the test itself: no change to /etc/fuse.conf or /dev/fuse.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use File::Path qw(make_path);
use POSIX ();

FaasTest::need_root('a FUSE mount of a customer\'s');
FaasTest::need(-x '/usr/bin/bindfs' && -e '/dev/fuse',
               'bindfs (make test-deps) and /dev/fuse');

my $t = FaasTest->new;
my $p = $t->prefix;
my ($nuid, $ngid) = (getpwnam('nobody'))[2, 3];

my @mounts;
my @daemons;

# unmounted, and the daemons gone (they exit with their mount)
sub unmount {
    system('umount', '-l', $_) for reverse splice @mounts;
    for my $pid (splice @daemons) {
        kill 'TERM', $pid;
        waitpid($pid, 0);
    }
}

END { unmount() }

# a function folder that says it is root's and runs as root
sub rootfn {
    my ($dir, $says) = @_;
    make_path($dir);
    FaasTest::write_file("$dir/function.conf",
                         "exec = ./r.sh\nmode = cgi\nuser = root\n");
    FaasTest::write_file("$dir/r.sh", "#!/bin/sh\nprintf 'Content-Type: "
                         . "text/plain\\r\\n\\r\\n$says %s\\n' \"\$(id -u)\"\n");
    chmod 0755, $dir, "$dir/r.sh";
    chmod 0644, "$dir/function.conf";
}

# bindfs over $from at $to in the foreground, every file shown as
# root's, mounted as uid:gid would through fusermount3: libfuse writes
# its real uid in the mount's "user_id=" (the daemon here keeps root's
# effective uid to mount without fusermount3's setuid helper)
sub bindfs {
    my ($uid, $gid, $from, $to, @o) = @_;
    make_path($to);
    chown $uid, $gid, $to;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        $( = $gid;
        $< = $uid;
        exec '/usr/bin/bindfs', '-f', '-o', 'allow_other', @o,
             '--force-user=root', '--force-group=root', $from, $to
            or POSIX::_exit(127);
    }
    push @daemons, $pid;
    push @mounts, $to;
    # mounted: the folder's entries are seen through it
    return FaasTest::wait_for(sub { opendir(my $d, $to) or return 0;
                                    (grep { !/^\./ } readdir $d)
                                    && (stat $to)[0] != (stat "$to/..")[0] },
                              10);
}

# the customer's (nobody's) files, mounted by it
my $src = "$p/customer";
# its source folder named as a mount option would be
rootfn("$src/user_id=0/evil", 'EVIL');
system('chown', '-R', "$nuid:$ngid", $src) == 0 or die;
chmod 0755, $src;
ok(bindfs($nuid, $ngid, "$src/user_id=0", "$p/mnt"),
   'nobody mounts bindfs, from a folder named "user_id=0"');
like(FaasTest::read_file('/proc/self/mountinfo'),
     qr{ \Q$p\E/mnt .* - fuse\S* \S*user_id=0 \S*user_id=$nuid}, '... so the '
     . 'mount\'s line shows it');
is((stat "$p/mnt/evil")[4], 0, '... where its folder looks root\'s');
is((stat "$p/mnt/evil/function.conf")[4], 0, '... and its function.conf');

# the operator's, mounted by root
rootfn("$p/operator/fns/good", 'good');
ok(bindfs(0, 0, "$p/operator/fns", "$p/rmnt"), 'root mounts bindfs');

$t->start_runner(conf => "functions = $p/mnt $p/rmnt\n");
$t->start_nginx($t->faas_location);

ok(index($t->runner_log, "$p/mnt/evil/function.conf: not loaded: its folder "
         . "\"$p/mnt/evil\" is on a FUSE file system uid $nuid mounted")
   >= 0, 'a folder on a FUSE file system nobody mounted: not loaded, said')
    or diag($t->runner_log);
is($t->http_get('/fn/evil')->{status}, 404, '... not served');
is($t->http_get('/fn/good')->{body}, "good 0\n",
   'one on a FUSE file system root mounted: served, as it says');

is($t->stop_runner, 0, 'the runner stops cleanly');
unmount();

$t->done;
done_testing;
