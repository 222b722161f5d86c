#!/usr/bin/perl

# Function names are the host's: with several functions folders (a
# glob of customers' folders), a customer whose folder comes first in
# the list makes a function of the same name as another's. On a reload
# the function already loaded keeps its name while its functions folder
# has a folder of that name (the same one, or its owner's next release
# renamed into place),
# whatever folder comes first, and at a restart the folder that had it
# when the runner last ran (state_dir/function-names), so no customer
# takes another's route (and its visitors) by a name. Once the owner's
# folder is gone, the name is free.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use File::Path qw(make_path remove_tree);

my $t = FaasTest->new;
my $p = $t->prefix;

sub cgi {
    my ($dir, $says) = @_;
    make_path($dir);
    chmod 0755, $dir;
    FaasTest::write_file("$dir/function.conf", "exec = ./r.sh\nmode = cgi\n");
    FaasTest::write_file("$dir/r.sh", "#!/bin/sh\nprintf 'Content-Type: "
                         . "text/plain\\r\\n\\r\\n$says\\n'\n");
    chmod 0755, "$dir/r.sh";
}

for my $c ('a-mallory', 'b-victim') {
    make_path("$p/home/$c/functions");
    chmod 0755, "$p/home", "$p/home/$c", "$p/home/$c/functions";
}
cgi("$p/home/b-victim/functions/shop", 'the victims shop');

$t->start_runner(conf => "functions = $p/home/*/functions\n");
$t->start_nginx($t->faas_location);
is($t->http_get('/fn/shop')->{body}, "the victims shop\n", 'the shop');

# the first folder in the glob's order makes a function of that name
cgi("$p/home/a-mallory/functions/shop", 'MALLORY');
my $mark = length $t->runner_log;
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { substr($t->runner_log, $mark)
                            =~ /function "shop" is both .* the one loaded before stays/ },
                      10), 'a reload: the name is said taken, with both folders');
is($t->http_get('/fn/shop')->{body}, "the victims shop\n",
   '... and the shop is still the victim\'s');

# its owner changes it: still its own, the change taken
cgi("$p/home/b-victim/functions/shop", 'the victims new shop');
$mark = length $t->runner_log;
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { substr($t->runner_log, $mark)
                            =~ /function "shop" changed/ }, 10),
   'its owner\'s change is taken');
is($t->http_get('/fn/shop')->{body}, "the victims new shop\n",
   '... the shop is its owner\'s new one');

# its owner deploys a release by renaming folders (a new inode): still
# its own (the other folder took it at the next reload)
cgi("$p/home/b-victim/functions/shop.new", 'the victims renamed shop');
rename("$p/home/b-victim/functions/shop", "$p/home/b-victim/functions/shop.old")
    or die "rename: $!";
rename("$p/home/b-victim/functions/shop.new", "$p/home/b-victim/functions/shop")
    or die "rename: $!";
remove_tree("$p/home/b-victim/functions/shop.old");
$mark = length $t->runner_log;
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { substr($t->runner_log, $mark)
                            =~ /function "shop" changed/ }, 10),
   'a release renamed into place by its owner is taken');
is($t->http_get('/fn/shop')->{body}, "the victims renamed shop
",
   '... the shop is its owner\'s, not the first folder\'s in the glob');
$mark = length $t->runner_log;
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { substr($t->runner_log, $mark)
                            =~ /function "shop" is both .* the one loaded before stays/ },
                      10), '... and stays so at the next reload');
is($t->http_get('/fn/shop')->{body}, "the victims renamed shop
",
   '... the victim\'s');

# releases switched by a symlink, the old one removed: still its own
my $rel = "$p/home/b-victim/releases";
cgi("$rel/r1/shop", 'the victims release 1');
remove_tree("$p/home/b-victim/functions/shop");
symlink("$rel/r1/shop", "$p/home/b-victim/functions/shop") or die;
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { ($t->http_get('/fn/shop')->{body} // '')
                            eq "the victims release 1\n" }, 10),
   'a release by a symlink: taken');
cgi("$rel/r2/shop", 'the victims release 2');
symlink("$rel/r2/shop", "$p/home/b-victim/functions/shop.new") or die;
rename("$p/home/b-victim/functions/shop.new",
       "$p/home/b-victim/functions/shop") or die;
remove_tree("$rel/r1");
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { ($t->http_get('/fn/shop')->{body} // '')
                            eq "the victims release 2\n" }, 10),
   'the next release by a symlink switched, the old one removed: the '
   . 'victim\'s still');

unlink "$p/home/b-victim/functions/shop";
cgi("$p/home/b-victim/functions/shop", 'the victims new shop');
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { ($t->http_get('/fn/shop')->{body} // '')
                            eq "the victims new shop\n" }, 10),
   '(the shop as it was)');

# a restart (no function loaded yet): the folder that had the name when
# the runner last ran keeps it, though the glob lists the other first
is($t->stop_runner, 0, 'the runner stops');
$t->start_runner(conf => "functions = $p/home/*/functions\n");
ok(index($t->runner_log, qq{function "shop" is both }
         . qq{"$p/home/b-victim/functions/shop" and }
         . qq{"$p/home/a-mallory/functions/shop": the one that had it when }
         . 'the runner last ran stays') >= 0,
   'a restart: the name is said taken, with both folders');
is($t->http_get('/fn/shop')->{body}, "the victims new shop\n",
   '... and the shop is still the victim\'s');
my $names = FaasTest::read_file("$p/state/function-names");
like($names, qr{^shop \d+ \d+ \Q$p/home/b-victim/functions/shop\E$}m,
     'who had it is kept in state_dir: its device, inode and path');
is((stat "$p/state/function-names")[2] & 07777, 0600, '... the runner\'s '
   . 'alone (0600)');

# a reboot may number the devices anew: the folder that had the name is
# known by its path then (its parents are its owner's or root's)
is($t->stop_runner, 0, 'the runner stops');
(my $renumbered = $names) =~ s/^shop (\d+) /'shop ' . ($1 + 1) . ' '/me;
isnt($renumbered, $names, '(its device renumbered)');
FaasTest::write_file("$p/state/function-names", $renumbered);
$t->start_runner(conf => "functions = $p/home/*/functions\n");
is($t->http_get('/fn/shop')->{body}, "the victims new shop\n",
   'a restart with the device renumbered: the shop is still the victim\'s');

# the owner's folder gone: the name is free
remove_tree("$p/home/b-victim/functions/shop");
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { ($t->http_get('/fn/shop')->{body} // '')
                            eq "MALLORY\n" }, 10),
   'once its folder is gone, the other folder\'s function has the name');

# and at a restart: the folder that had it, then the victim's new one
# (a later folder in the glob) does not take it back
cgi("$p/home/b-victim/functions/shop", 'the victims shop again');
is($t->stop_runner, 0, 'the runner stops');
$t->start_runner(conf => "functions = $p/home/*/functions\n");
is($t->http_get('/fn/shop')->{body}, "MALLORY\n",
   'a restart: the name stays with the folder that had it');

# the holder gone while the runner was down: the other has it
remove_tree("$p/home/a-mallory/functions/shop");
is($t->stop_runner, 0, 'the runner stops');
$t->start_runner(conf => "functions = $p/home/*/functions\n");
is($t->http_get('/fn/shop')->{body}, "the victims shop again\n",
   'the folder that had it gone at a restart: the other one has it');

# the holder there but broken at a restart: nobody else takes its name
cgi("$p/home/a-mallory/functions/shop", 'MALLORY');
FaasTest::write_file("$p/home/b-victim/functions/shop/function.conf",
                     "exec = ./r.sh\nmode = cgi\nno_such_key = 1\n");
is($t->stop_runner, 0, 'the runner stops');
$t->start_runner(conf => "functions = $p/home/*/functions\n");
ok(index($t->runner_log, qq{function "shop": }
         . qq{"$p/home/a-mallory/functions/shop" does not take the name of a }
         . 'folder that is there but did not load') >= 0,
   'its holder there but not loading: the other does not take the name');
is($t->http_get('/fn/shop')->{status}, 404, '... 404 until it is fixed');
cgi("$p/home/b-victim/functions/shop", 'the victims shop fixed');
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { ($t->http_get('/fn/shop')->{body} // '')
                            eq "the victims shop fixed\n" }, 10),
   '... fixed: its own again');

# a folder whose path has a newline, a space and a '%': one line of the
# file still, read back whole (a line break would make two of it)
my $odd = "$p/home/c-odd\n100% x";
make_path("$odd/functions");
chmod 0755, $odd, "$odd/functions";
cgi("$odd/functions/blog", 'the blog');
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { ($t->http_get('/fn/blog')->{body} // '')
                            eq "the blog\n" }, 10), 'an odd path: loaded');
$names = FaasTest::read_file("$p/state/function-names");
like($names, qr{^blog \d+ \d+ \Q$p/home/c-odd%0A100%25%20x/functions/blog\E$}m,
     '... its path kept escaped, on one line');
is($t->stop_runner, 0, 'the runner stops');
cgi("$p/home/a-mallory/functions/blog", 'MALLORY');
($renumbered = $names) =~ s/^blog (\d+) /'blog ' . ($1 + 1) . ' '/me;
FaasTest::write_file("$p/state/function-names", $renumbered);
$t->start_runner(conf => "functions = $p/home/*/functions\n");
is($t->http_get('/fn/blog')->{body}, "the blog\n",
   '... read back: the odd path keeps its name, device renumbered');

$t->done;
done_testing;
