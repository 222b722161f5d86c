#!/usr/bin/perl

# A function's folder removed and made again under the same name, by
# the operator for another customer, with no reload in between: a file
# system hands the new folder the inode number the old one had (ext4
# does at once), and the runner knows a folder by its device and inode.
#   - daemon's function "shop" is loaded and served, then goes cold
#     (its prototype stopped: nothing holds its folder);
#   - the operator removes the folder and gives the name to nobody: a
#     folder of nobody's program, no SIGHUP;
#   - the next request starts the function from nothing.
# Promise: never nobody's program run as daemon (nor as anybody): the
# request gets an error, the runner stays up; the reload loads nobody's
# function as nobody. Default isolation, and isolation = none. The
# runner tells the folders apart by their file handles (the inode's
# generation with its number), not by descriptors it would hold.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);

FaasTest::need_root('folders of two customers');

my $t = FaasTest->new;
my $p = $t->prefix;
my ($duid, $dgid) = (getpwnam('daemon'))[2, 3];
my ($nuid, $ngid) = (getpwnam('nobody'))[2, 3];

# a CGI folder owned by uid:gid whose program says who it is
sub cgi {
    my ($dir, $says, $uid, $gid) = @_;
    make_path($dir);
    FaasTest::write_file("$dir/r.sh", "#!/bin/sh\nprintf 'Content-Type: "
                         . "text/plain\\r\\n\\r\\n$says %s\\n' \"\$(id -u)\"\n");
    FaasTest::write_file("$dir/function.conf", "exec = ./r.sh\nmode = cgi\n");
    chmod 0755, $dir, "$dir/r.sh";
    chmod 0644, "$dir/function.conf";
    chown $uid, $gid, $dir, "$dir/r.sh", "$dir/function.conf";
}

my $root = "$p/root";
make_path($root);
chmod 0755, $root;

# $dir removed and made again, with its old inode number if the file
# system gives it to one of the next folders made (ext4: the lowest free)
sub again {
    my ($dir) = @_;
    my $ino = (stat $dir)[1];
    remove_tree($dir);
    my @spare;
    for my $i (1 .. 64) {
        mkdir "$dir.new$i" or last;
        if ((stat "$dir.new$i")[1] == $ino) {
            rename "$dir.new$i", $dir;
            last;
        }
        push @spare, "$dir.new$i";
    }
    remove_tree(@spare);
    return $ino;
}

# a runner on $root: daemon's "shop" served, as daemon; then cold (its
# prototype stopped, no process in its folder)
sub served_then_cold {
    my ($conf, $what) = @_;
    my $mark = length $t->runner_log;
    $t->start_runner(conf => "functions = $root\n$conf"
                             . "prototype_idle_timeout = 1s\n",
                     log_level => 'debug');
    $t->start_nginx($t->faas_location) unless $t->{nginx_pid};
    is($t->http_get('/fn/shop')->{body}, "daemons $duid\n",
       "$what the customer's function, as the customer");
    ok(FaasTest::wait_for(sub { substr($t->runner_log, $mark)
                                =~ /prototype \d+ of "shop" idle, stopping/
                                && !holders("$root/shop") }, 15),
       "$what it goes cold (its prototype gone: nothing is in its folder)");
}

# SIGHUP: the new folder is loaded, nobody's, run as nobody; then the
# runner is stopped
sub reload_to_nobody {
    my ($name, $uri, $what, $says) = @_;
    $says //= 'NOBODYS';
    my $reload = length $t->runner_log;
    $t->signal_runner('HUP');
    ok(FaasTest::wait_for(sub { substr($t->runner_log, $reload)
                                =~ /function "$name" (changed|loaded)/ }, 15),
       "$what the reload takes the new folder");
    is($t->http_get($uri)->{body}, "$says $nuid\n",
       "$what then it is nobody's, as nobody");
    is($t->stop_runner, 0, "$what the runner stops cleanly");
}

# processes whose working directory is $dir (a prototype, its process 1)
sub holders {
    my ($dir) = @_;
    return grep { (readlink("$_/cwd") // '') eq $dir } glob '/proc/[0-9]*';
}

for my $mode ('', 'none') {
    my $what = $mode ? "isolation = $mode" : 'the default isolation';
    my $isolation = $mode ? "isolation = $mode\n" : '';

    remove_tree("$root/shop");
    cgi("$root/shop", 'daemons', $duid, $dgid);
    my $ino = (stat "$root/shop")[1];
    served_then_cold($isolation, "$what:");

    # the name given to another customer: a new folder where it was
    again("$root/shop");
    cgi("$root/shop", 'NOBODYS', $nuid, $ngid);
    my $new = (stat "$root/shop")[1];
    $new == $ino
        ? note("$what: the new folder has the old one's inode, $ino")
        : diag("$what: this file system gave the new folder inode $new, "
               . "not the old one's ($ino): the case is not met");

    my $r = $t->http_get('/fn/shop');
    unlike($r->{body} // '', qr/NOBODYS/,
           "$what: nobody's program does not run as the customer's "
           . "function");
    like($r->{status}, qr/^5\d\d$/, "$what: the request gets an error ("
         . "$r->{status})");
    ok(FaasTest::proc_alive($t->runner_pid), "$what: the runner stays up");

    reload_to_nobody('shop', '/fn/shop', "$what:");
}

# --- the same customer's folder made again, its files alike ------------
# rm -rf and a tar of the same files (same names, sizes, times, and on
# ext4 the same inode numbers): until the reload a spawn refuses it (it
# is not the folder loaded), and the reload takes it (it is: its handle
# differs), so it serves again. Then the folder given to nobody by a
# chown alone: the reload makes it nobody's function, run as nobody.

{
    remove_tree("$root/shop", "$root/site");
    cgi("$root/shop", 'daemons', $duid, $dgid);
    my @times = map { [(stat "$root/shop/$_")[8, 9]] } 'r.sh',
                'function.conf';
    my $mark = length $t->runner_log;
    served_then_cold('', 'the same files again:');
    my $ino = again("$root/shop");
    cgi("$root/shop", 'daemons', $duid, $dgid);
    my $i = 0;
    utime @{ $times[$i++] }, "$root/shop/$_" for 'r.sh', 'function.conf';
    note('the folder made again has inode ', (stat "$root/shop")[1],
         ", the old one had $ino");
    like($t->http_get('/fn/shop')->{status}, qr/^5\d\d$/,
         '... the folder made again: refused until the reload');
    like(substr($t->runner_log, $mark), qr/function "shop" cannot start: "\Q$root\E\/shop" is not the folder it was loaded from \(made again, removed or swapped for a link since\?\): a reload takes what is there now/,
         '... saying why');
    my $reload = length $t->runner_log;
    $t->signal_runner('HUP');
    ok(FaasTest::wait_for(sub { substr($t->runner_log, $reload)
                                =~ /function "shop" changed/ }, 15),
       '... the reload takes it, a change');
    ok(FaasTest::wait_for(sub {
           ($t->http_get('/fn/shop')->{body} // '') eq "daemons $duid\n" },
       10), '... and it serves again');

    # a chown alone gives it to nobody
    system('chown', '-R', "$nuid:$ngid", "$root/shop") == 0
        or die "chown failed";
    reload_to_nobody('shop', '/fn/shop', 'chown -R nobody:', 'daemons');
}

# --- the folder swapped for a link, then removed -------------------------
# root's link to daemon's folder elsewhere is not followed (its owner
# does not own its target): no worker starts, and the log says why,
# not that the program's exec failed

{
    remove_tree("$root/shop", "$p/elsewhere");
    cgi("$root/shop", 'daemons', $duid, $dgid);
    served_then_cold('', 'swapped for a link:');
    rename "$root/shop", "$p/elsewhere" or die "rename: $!";
    symlink "$p/elsewhere", "$root/shop" or die "symlink: $!";
    for my $how ('swapped for a link', 'removed', 'a file') {
        # (after the first refusal's throttle, 250 ms, and more)
        unlink "$root/shop" and sleep 1 if $how eq 'removed';
        FaasTest::write_file("$root/shop", "x\n"), sleep 1.5
            if $how eq 'a file';
        my $mark = length $t->runner_log;
        like($t->http_get('/fn/shop')->{status}, qr/^5\d\d$/,
             "... $how: a 5xx");
        like(substr($t->runner_log, $mark), qr/function "shop" cannot (?x)
             start:\ "\Q$root\E\/shop"\ is\ not\ the\ folder\ it\ was
             \ loaded\ from/, "... saying why");
        unlike(substr($t->runner_log, $mark), qr/execve\(\)/,
               '... not as an exec that failed');
    }
    is($t->stop_runner, 0, '... the runner stops cleanly');
    remove_tree("$p/elsewhere");
}

# --- a warm document_root site ------------------------------------------
# Its php-cgi worker is alive (its working directory holds the old
# folder), and it opens SCRIPT_FILENAME, the path the runner resolved
# for the request: the runner resolves it only in the folder it loaded.
# (isolation = none: under the default one a folder in /tmp is mounted
# into the worker's own /tmp, the old one.)

SKIP: {
    skip 'php-cgi is not installed', 6 unless -x '/usr/bin/php-cgi';

    remove_tree("$root/shop");
    cgi("$root/site", 'daemons', $duid, $dgid);
    FaasTest::write_file("$root/site/function.conf",
                         "exec = php-cgi\ndocument_root = www\n");
    my $php = "<?php echo '%s ', posix_getuid(), \"\\n\";\n";
    mkdir "$root/site/www";
    FaasTest::write_file("$root/site/www/index.php", sprintf($php, 'daemons'));
    chown $duid, $dgid, "$root/site/www", "$root/site/www/index.php";

    $t->start_runner(conf => "functions = $root\nisolation = none\n");
    is($t->http_get('/fn/site/index.php')->{body}, "daemons $duid\n",
       'a document_root site, warm: its script, as the customer');

    remove_tree("$root/site");
    cgi("$root/site", 'NOBODYS', $nuid, $ngid);
    FaasTest::write_file("$root/site/function.conf",
                         "exec = php-cgi\ndocument_root = www\n");
    mkdir "$root/site/www";
    FaasTest::write_file("$root/site/www/index.php", sprintf($php, 'NOBODYS'));
    chown $nuid, $ngid, "$root/site/www", "$root/site/www/index.php",
          "$root/site/function.conf";

    my $r = $t->http_get('/fn/site/index.php');
    unlike($r->{body} // '', qr/NOBODYS/,
           "... its folder made again as nobody's: nobody's script does not "
           . "run in the customer's worker");
    like($r->{status}, qr/^[45]\d\d$/, "... an error ($r->{status})");

    reload_to_nobody('site', '/fn/site/index.php', '...');
}

# --- a warm script function, its folder out of the tmps -----------------
# php-cgi opens SCRIPT_FILENAME, the absolute path, itself. A folder
# under /tmp is the worker's own mount (on its private tmpfs); one
# elsewhere (here /var/cache) is too: the default isolation covers the
# functions folder with a tmpfs of the worker's, its folder mounted in
# it (a bind mount of the folder over itself would not hold: the host's
# rmdir detaches it). The warm worker finds its own folder, emptied.

SKIP: {
    skip 'php-cgi is not installed', 5 unless -x '/usr/bin/php-cgi';

    my $far = tempdir('faas-test-XXXXXX', DIR => '/var/cache',
                      CLEANUP => 1);
    chmod 0755, $far;
    my $php = "<?php echo '%s ', posix_getuid(), \"\\n\";\n";

    for my $who (['daemons', $duid, $dgid], ['NOBODYS', $nuid, $ngid]) {
        remove_tree("$far/page");
        cgi("$far/page", @$who);
        FaasTest::write_file("$far/page/function.conf",
                             "exec = php-cgi\nscript = index.php\n");
        FaasTest::write_file("$far/page/index.php", sprintf($php, $who->[0]));
        chown $who->[1], $who->[2], "$far/page/index.php",
              "$far/page/function.conf";
        last if $who->[0] eq 'NOBODYS';

        $t->start_runner(conf => "functions = $far\n");
        is($t->http_get('/fn/page')->{body}, "daemons $duid\n",
           'a script function out of the tmps, warm: its script, as the '
           . 'customer');
    }

    my $r = $t->http_get('/fn/page');
    unlike($r->{body} // '', qr/NOBODYS/,
           "... its folder made again as nobody's: nobody's script does not "
           . "run in the customer's warm worker");
    like($r->{status}, qr/^[45]\d\d$/, "... an error ($r->{status})");
    reload_to_nobody('page', '/fn/page', '...');
}

# --- the cover: what a function out of the tmps sees of its folder's ----
# Beside "shop" (daemon's) the functions folder holds nobody's "other"
# with a file anyone may read, root's "bin" with the program of root's
# function "tool" two folders down, root's "top.sh", the program of
# root's function "top" (a file right in the functions folder: kept
# alone), and daemon's "linked", a link to daemon's folder elsewhere
# (its parent, daemon's too, is left as it is; the functions folder is
# covered, with nothing in it). The runner runs with umask 077, as
# under its systemd unit.

{
    my $far = tempdir('faas-test-XXXXXX', DIR => '/var/cache',
                      CLEANUP => 1);
    my $home = tempdir('faas-test-XXXXXX', DIR => '/var/cache',
                       CLEANUP => 1);
    chmod 0755, $far, $home;
    my $sh = "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\n";
    my $ls = "echo \"ls: \$(ls -a .. | tr '\\n' ' ')\"\n";

    make_path("$far/shop", "$far/other", "$far/bin/sub", "$far/tool",
              "$far/top", "$home/site");
    chmod 0755, map { "$far/$_" } qw(shop other bin bin/sub tool top);
    FaasTest::write_file("$far/shop/function.conf",
                         "exec = ./r.sh\nmode = cgi\n");
    FaasTest::write_file("$far/shop/r.sh", $sh . $ls
        . "echo \"abs: \$(ls -a $far | tr '\\n' ' ')\"\n"
        . "cat ../other/open 2>/dev/null || echo 'other: hidden'\n"
        . "mkdir ../made 2>/dev/null || echo 'mkdir: refused'\n"
        . "echo mine > ./written && echo 'own folder: written'\n");
    chown $duid, $dgid, map { "$far/shop/$_" } '', 'r.sh', 'function.conf';
    chmod 0755, "$far/shop/r.sh";

    FaasTest::write_file("$far/other/open", "nobody's open file\n");
    FaasTest::write_file("$far/other/function.conf", "exec = ./x\n");
    chmod 0644, "$far/other/open";
    chown $nuid, $ngid, map { "$far/other/$_" } '', 'open', 'function.conf';

    FaasTest::write_file("$far/bin/sub/say", $sh . "echo \"from bin: \$0\"\n");
    chmod 0755, "$far/bin/sub/say";
    FaasTest::write_file("$far/tool/function.conf",
                         "exec = ../bin/sub/say\nmode = cgi\n");
    FaasTest::write_file("$far/top.sh", $sh . "echo 'from the top'\n" . $ls);
    chmod 0755, "$far/top.sh";
    FaasTest::write_file("$far/top/function.conf",
                         "exec = ../top.sh\nmode = cgi\n");

    FaasTest::write_file("$home/dotfile", "daemon's own\n");
    FaasTest::write_file("$home/site/function.conf",
                         "exec = ./r.sh\nmode = cgi\n");
    FaasTest::write_file("$home/site/r.sh", $sh . "cat ../dotfile\n"
                         . "echo \"abs: \$(ls -a $far | tr '\\n' ' ')\"\n");
    chmod 0755, "$home/site", "$home/site/r.sh";
    chown $duid, $dgid, $home, map { "$home/$_" } qw(dotfile site site/r.sh
                                                    site/function.conf);
    symlink "$home/site", "$far/linked" or die "symlink: $!";
    system('chown', '-h', "$duid:$dgid", "$far/linked") == 0 or die;

    my $umask = umask 077;
    $t->start_runner(conf => "functions = $far\n", log_level => 'info');
    umask $umask;
    my $r = $t->http_get('/fn/shop');
    is($r->{status}, 200, 'a function out of the tmps: 200');
    like($r->{body}, qr/^ls: \. \.\. shop \nabs: \. \.\. shop $/m,
         '... its functions folder holds its own folder alone');
    like($r->{body}, qr/^other: hidden$/m,
         "... another's folder beside it is not there, even a file anyone "
         . "may read");
    like($r->{body}, qr/^mkdir: refused$/m, '... nor can it make one');
    ok(!-e "$far/made", '... (nothing made on the host)');
    like($r->{body}, qr/^own folder: written$/m,
         '... its own folder is the host one, writable as ever');
    is(FaasTest::read_file("$far/shop/written"), "mine\n",
       '... (written on the host)');
    is($t->http_get('/fn/tool')->{body}, "from bin: $far/bin/sub/say\n",
       "root's function whose program is two folders down beside it runs "
       . "it (under umask 077)");
    is($t->http_get('/fn/top')->{body}, "from the top\nls: . .. top top.sh \n",
       "root's function whose program is right in the functions folder: "
       . "that file is kept alone");
    is($t->http_get('/fn/linked')->{body}, "daemon's own\nabs: . .. \n",
       "a folder that is a link: its target's folder is left as it is, "
       . "the functions folder covered, empty");

    # the functions folder made again, the function's folder moved in
    my $mark = length $t->runner_log;
    rename $far, "$far.old" or die "rename: $!";
    mkdir $far, 0755 or die "mkdir: $!";
    rename "$far.old/shop", "$far/shop" or die "rename: $!";
    FaasTest::write_file("$far/planted", "made after\n");
    $r = $t->http_get('/fn/shop');
    like($r->{body}, qr/^abs: \. \.\. shop $/m,
         'the functions folder made again: the new one is covered');
    like(substr($t->runner_log, $mark),
         qr/the paths of "shop" changed: a new prototype/,
         '... by a new prototype');
    rename "$far/shop", "$far.old/shop";
    remove_tree($far);
    rename "$far.old", $far;
    is($t->stop_runner, 0, '... the runner stops cleanly');
}

# --- the cover of a linked folder, across a release switch ------------
# functions = $rel/current, a link to release r1, then r2 (the same
# files: a function whose folder is a link elsewhere is unchanged); the
# cover follows the switch, and r1 may go. And a functions folder the
# function's user cannot reach (in a 0700 folder of root's): no cover,
# the function runs.

{
    my $rel = tempdir('faas-test-XXXXXX', DIR => '/var/cache', CLEANUP => 1);
    my $home = tempdir('faas-test-XXXXXX', DIR => '/var/cache',
                       CLEANUP => 1);
    chmod 0755, $rel, $home;
    make_path("$home/site", "$rel/r1", "$rel/private/functions");
    chmod 0755, "$rel/r1", "$home/site";
    chmod 0700, "$rel/private";
    FaasTest::write_file("$home/site/function.conf",
                         "exec = ./r.sh\nmode = cgi\n");
    FaasTest::write_file("$home/site/r.sh", "#!/bin/sh\nprintf 'Content-"
        . "Type: text/plain\\r\\n\\r\\n'\nfor r in r1 r2; do echo \"\$r: "
        . "\$(ls -a $rel/\$r 2>&1 | tr '\\n' ' ')\"; done\n");
    chmod 0755, "$home/site/r.sh";
    chown $duid, $dgid, map { "$home/site/$_" } '', 'r.sh', 'function.conf';
    symlink "$home/site", "$rel/r1/linked" or die;
    symlink "$home/site", "$rel/private/functions/hidden" or die;
    system('chown', '-h', "$duid:$dgid", "$rel/r1/linked",
           "$rel/private/functions/hidden") == 0 or die;
    symlink 'r1', "$rel/current" or die;
    $t->start_runner(conf => "functions = $rel/current "
                             . "$rel/private/functions\n");
    like($t->http_get('/fn/linked')->{body}, qr/^r1: \. \.\. $/m,
         'a linked folder in release r1: r1 covered, empty');
    system('cp', '-a', "$rel/r1", "$rel/r2") == 0 or die;
    unlink "$rel/current";
    symlink 'r2', "$rel/current" or die;
    my $mark = length $t->runner_log;
    $t->signal_runner('HUP');
    FaasTest::wait_for(sub { substr($t->runner_log, $mark) =~ /reload/i }, 10);
    sleep 0.5;
    like($t->http_get('/fn/linked')->{body}, qr/^r2: \. \.\. $/m,
         '... switched to r2, unchanged: r2 covered');
    remove_tree("$rel/r1");
    is($t->http_get('/fn/linked')->{status}, 200, '... r1 removed: it runs');
    is($t->http_get('/fn/hidden')->{status}, 200,
       "a linked folder in a functions folder its user cannot reach: it "
       . "runs");
    # its cover (the functions folder) looked up as its user, who cannot
    # reach it: the runner's file rights were left the user's (its next
    # files the tenant's; its memory cgroup refused, EACCES)
    like(FaasTest::read_file('/proc/' . $t->runner_pid . '/status') // '',
         qr/^Uid:\s+0\s+0\s+0\s+0\s*$/m, '... the runner\'s file rights '
         . 'are root\'s again (fsuid 0)');
    like(FaasTest::read_file('/proc/' . $t->runner_pid . '/status') // '',
         qr/^Gid:\s+0\s+0\s+0\s+0\s*$/m, '... and its fsgid');
    is($t->stop_runner, 0, '... the runner stops cleanly');
}

# --- a program right in /tmp ---------------------------------------------
# daemon's function (its folder under /tmp) runs daemon's program that
# lies right in /tmp: the worker's /tmp has that file alone, never the
# host's /tmp whole (its other users' files, sessions, sockets)

{
    my $tool = "/tmp/faas-tool-$$";
    my $marker = "/tmp/faas-marker-$$";
    FaasTest::write_file($tool, "#!/bin/sh\nprintf 'Content-Type: "
                         . "text/plain\\r\\n\\r\\n'\nls -a /tmp\n");
    chmod 0755, $tool;
    chown $duid, $dgid, $tool;
    FaasTest::write_file($marker, "root's\n");
    chmod 0644, $marker;
    remove_tree("$root/shop");
    make_path("$root/shop");
    FaasTest::write_file("$root/shop/function.conf",
                         "exec = $tool\nmode = cgi\n");
    chown $duid, $dgid, "$root/shop", "$root/shop/function.conf";
    chmod 0755, "$root/shop";

    $t->start_runner(conf => "functions = $root\n");
    my $r = $t->http_get('/fn/shop');
    is($r->{status}, 200, 'a program right in /tmp: it runs');
    my $name = "faas-tool-$$";
    like($r->{body}, qr/^\Q$name\E$/m, '... its file is in its /tmp');
    unlike($r->{body}, qr/faas-marker/,
           "... the host's other files in /tmp are not");
    is($t->stop_runner, 0, '... the runner stops cleanly');
    unlink $tool, $marker;
}

$t->done;
done_testing;
