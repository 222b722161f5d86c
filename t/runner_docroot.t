#!/usr/bin/perl

# document_root: a PHP site with several entry points through php-cgi,
# each URL running its own script, compared with php-fpm behind the same
# nginx (Debian's snippets/fastcgi-php.conf) for the same files: same
# status and body. Never a script outside the folder: "..", encoded
# dots, a symlink out of it (another user's, or its owner's), a picture
# with a ".php" after it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use File::Path qw(make_path);
use POSIX qw(:sys_wait_h);

my ($fpm) = grep { -x } map { "/usr/sbin/php-fpm$_" } ('8.2', '');
($fpm) = glob('/usr/sbin/php-fpm*') unless $fpm;
BAIL_OUT('php-fpm is not installed: make test-deps installs it') unless $fpm;
FaasTest::need(-x '/usr/bin/php-cgi', 'php-cgi (make deps installs it)');
FaasTest::need_root('the symlink cases');

my $t = FaasTest->new;
my $p = $t->prefix;

my $report = <<'EOF';
<?php
header('Content-Type: text/plain');
echo "script=", __FILE__, "\n";
foreach (['SCRIPT_FILENAME', 'SCRIPT_NAME', 'PATH_INFO', 'PHP_SELF',
          'DOCUMENT_ROOT', 'REQUEST_URI', 'QUERY_STRING',
          'REQUEST_METHOD'] as $k) {
    echo $k, "=", $_SERVER[$k] ?? '-', "\n";
}
echo "q=", $_GET['q'] ?? '', "\n";
echo "v=", $_POST['v'] ?? '', "\n";
EOF

my $css = <<'EOF';
<?php
header('Content-Type: text/css; charset=utf-8');
echo "body { color: #123456; } /* ", basename(__FILE__), " */\n";
EOF

my %site = (
    'www/index.php' => $report,
    'www/a/b.php' => $report,
    'www/a/index.php' => $report,
    'www/lib/exe/css.php' => $css,
    'www/notes.txt' => "not a script\n",
    'www/up/pic.jpg' => "<?php echo 'uploaded code ran';\n",
    'www/sp ace/index.php' => "<?php echo 'space';\n",
    "www/n\r\nX-Injected: yes/index.php" => "<?php echo 'crlf';\n",
    'secret.php' => "<?php echo 'secret ran';\n",
);

# a function folder with sub-folders, readable by php-fpm's www-data
sub site {
    my ($name, $conf) = @_;
    my $d = $t->function($name, $conf);
    for my $f (sort keys %site) {
        my $path = "$d/$f";
        (my $sub = $path) =~ s{/[^/]+$}{};
        make_path($sub, { mode => 0755 });
        FaasTest::write_file($path, $site{$f});
        chmod 0644, $path;
    }
    return $d;
}

my $dir = site('site', "exec = php-cgi\ndocument_root = www\n");
site('sitecgi', "exec = php-cgi\nmode = cgi\ndocument_root = www\n");

# outside the document root, reached by symlinks: one of another user's
# (nobody's, pointing at root's file), one of the owner's own
mkdir "$p/outside";
chmod 0755, "$p/outside";
FaasTest::write_file("$p/outside/out.php", "<?php echo 'outside ran';\n");
chmod 0644, "$p/outside/out.php";
symlink("$p/outside/out.php", "$dir/www/other.php") or die "symlink: $!";
my $nobody = getpwnam('nobody');
system('chown', '-h', "$nobody:$nobody", "$dir/www/other.php") == 0
    or die 'chown -h';
symlink("$p/outside/out.php", "$dir/www/own.php") or die "symlink: $!";
symlink('../secret.php', "$dir/www/up.php") or die "symlink: $!";
# and one that stays inside: followed
symlink('a/b.php', "$dir/www/alias.php") or die "symlink: $!";

# a customer's folder (daemon's): the script is looked up with its rights
my ($duid, $dgid) = (getpwnam('daemon'))[2, 3];
my $cdir = $t->function('cust', "exec = php-cgi\ndocument_root = www\n");
make_path("$cdir/www/rootonly", { mode => 0755 });
FaasTest::write_file("$cdir/www/ok.php", $report);
FaasTest::write_file("$cdir/secret.php", "<?php echo 'secret ran';\n");
system('chown', '-R', "$duid:$dgid", $cdir) == 0 or die 'chown';
# a folder of root's in it that the customer cannot enter
FaasTest::write_file("$cdir/www/rootonly/x.php", "<?php echo 'root ran';\n");
chown 0, 0, "$cdir/www/rootonly", "$cdir/www/rootonly/x.php";
chmod 0700, "$cdir/www/rootonly";
chmod 0644, map { "$cdir/$_" } qw(www/ok.php secret.php www/rootonly/x.php);
# its own link out of the root, and its link to root's file
symlink("$cdir/secret.php", "$cdir/www/mine.php") or die "symlink: $!";
symlink("$p/outside/out.php", "$cdir/www/vault.php") or die "symlink: $!";
system('chown', '-h', "$duid:$dgid", "$cdir/www/mine.php",
       "$cdir/www/vault.php") == 0 or die 'chown -h';

# both keys: refused, never half loaded
site('both', "exec = php-cgi\nscript = secret.php\ndocument_root = www\n");

# --- php-fpm on the same files ------------------------------------------

ok($t->start_php_fpm, 'php-fpm up')
    or diag(FaasTest::read_file("$p/logs/php-fpm.out"));

$t->start_runner;

my $sock = $t->socket_path;
my $faas_port = $t->port;
my $fpm_port = FaasTest::free_port();
my $cgi_port = FaasTest::free_port();
my $stock_port = FaasTest::free_port();

$t->start_nginx(<<"EOF");
    upstream runner { server unix:$sock; keepalive 4; }

    server {
        listen 127.0.0.1:$faas_port;

        location / {
            faas_function site;
            faas_pass runner;
        }

        location /fn/ {
            faas_route ^/fn/(?<fname>[^/]*)(?<path_info>/.*)?\$ \$fname;
            faas_pass runner;
        }
    }

    server {
        listen 127.0.0.1:$stock_port;

        location ~ ^/fn/(?<fname>[^/]+)(?<fpath>/.*)?\$ {
            fastcgi_pass unix:$sock;
            include /etc/nginx/fastcgi_params;
            fastcgi_param FAAS_FUNCTION \$fname;
            fastcgi_param PATH_INFO \$fpath;
        }
    }

    server {
        listen 127.0.0.1:$cgi_port;

        location / {
            faas_function sitecgi;
            faas_pass runner;
        }
    }

@{[ $t->php_fpm_server($fpm_port, "$dir/www") ]}
EOF

sub on {
    my ($port, $method, @args) = @_;
    local $t->{port} = $port;
    return $t->$method(@args);
}

sub same {
    my ($what, $method, @args) = @_;
    my $a = on($faas_port, $method, @args);
    my $b = on($fpm_port, $method, @args);
    is($a->{status}, $b->{status}, "$what: status $b->{status} as php-fpm");
    if ($b->{status} == 200) {
        is($a->{body}, $b->{body}, "$what: body as php-fpm");
        is(FaasTest::header($a, 'content-type'),
           FaasTest::header($b, 'content-type'), "$what: its Content-Type");
    }
    return $a;
}

# first of all: a missing script wakes no worker
my $r = on($faas_port, 'http_get', '/nope.php');
is($r->{status}, 404, 'a missing script: 404');
is($r->{body}, "404 Not Found\n", 'the runner\'s own short 404');
is(scalar $t->workers('site'), 0, 'and no worker was started for it');
like($t->runner_log, qr/function "site": no script for "\/nope\.php"/,
     'it is logged');

$r = same('/', 'http_get', '/');
like($r->{body}, qr{^SCRIPT_NAME=/index\.php$}m, '/ runs index.php');

$r = same('/index.php?q=1', 'http_get', '/index.php?q=1');
like($r->{body}, qr{^q=1$}m, 'query string');

$r = same('/a/b.php', 'http_get', '/a/b.php');
like($r->{body}, qr{^script=\Q$dir\E/www/a/b\.php$}m, 'a/b.php runs a/b.php');
like($r->{body}, qr{^SCRIPT_FILENAME=\Q$dir\E/www/a/b\.php$}m,
     'SCRIPT_FILENAME');

$r = same('/a/b.php/more/path', 'http_get', '/a/b.php/more/path?q=x');
like($r->{body}, qr{^SCRIPT_NAME=/a/b\.php$}m, 'SCRIPT_NAME split');
like($r->{body}, qr{^PATH_INFO=/more/path$}m, 'PATH_INFO the rest');

$r = same('/a/', 'http_get', '/a/');
like($r->{body}, qr{^script=\Q$dir\E/www/a/index\.php$}m,
     'a folder runs its index.php');

# a folder without its slash: redirected to it, as nginx does
for my $u (['/a', '/a/'], ['/a?q=1&r=2', '/a/?q=1&r=2'],
           ['/sp%20ace', '/sp%20ace/']) {
    $r = same("$u->[0] (a folder)", 'http_get', $u->[0]);
    is($r->{status}, 301, "$u->[0]: 301");
    is(FaasTest::header($r, 'location'), $u->[1], "$u->[0]: to $u->[1]");
}
# a name with a line break: escaped, never a header of its own
$r = on($faas_port, 'http_get', '/n%0D%0AX-Injected:%20yes');
is($r->{status}, 301, 'a folder with a line break in its name: 301');
is(FaasTest::header($r, 'location'), '/n%0D%0AX-Injected:%20yes/',
   'its Location escaped');
ok(!$r->{headers}{'x-injected'}, 'no header injected');
$r = on($faas_port, 'http_get', '/a/');
like($r->{body}, qr{^SCRIPT_NAME=/a/index\.php$}m, 'and with it: its index');

$r = same('CSS entry point', 'http_get', '/lib/exe/css.php');
is($r->{body}, "body { color: #123456; } /* css.php */\n",
   'the CSS, not a page');
is(FaasTest::header($r, 'content-type'), 'text/css; charset=utf-8',
   'as text/css');

$r = same('POST to a/b.php', 'http_post', '/a/b.php', 'v=posted',
          headers => "Content-Type: application/x-www-form-urlencoded\r\n");
like($r->{body}, qr{^v=posted$}m, 'the form reached it');

same('a missing script', 'http_get', '/nope.php');
same('a missing folder', 'http_get', '/nope/x.php');
same('a picture with .php after it', 'http_get', '/up/pic.jpg/x.php');

# nginx normalizes the URI: what is left stays inside
same('.. in the URI', 'http_get', '/a/../index.php');
same('encoded dots', 'http_get', '/a/%2e%2e/a/b.php');
same('encoded dots above the root', 'http_get', '/%2e%2e/secret.php');
same('.. above the root', 'http_get', '/../secret.php');
same('encoded slash and dots', 'http_get', '/a/..%2f..%2fsecret.php');

# what php-fpm would serve and the runner does not
$r = on($faas_port, 'http_get', '/notes.txt');
is($r->{status}, 404, 'a file not named like index is not run');
$r = on($faas_port, 'http_get', '/up/pic.jpg');
is($r->{status}, 404, 'an uploaded picture is not run');
$r = on($faas_port, 'http_get', '/other.php');
is($r->{status}, 404, 'a symlink of another user out of the root: 404');
unlike($r->{body}, qr/outside ran/, 'not run');
$r = on($faas_port, 'http_get', '/own.php');
is($r->{status}, 404, 'its owner\'s symlink out of the root: 404');
$r = on($faas_port, 'http_get', '/up.php');
is($r->{status}, 404, 'a relative symlink up to the function\'s folder: 404');
$r = on($faas_port, 'http_get', '/alias.php');
is($r->{status}, 200, 'a symlink inside the root is followed');
like($r->{body}, qr{^script=\Q$dir\E/www/a/b\.php$}m, 'to its target');

# a FastCGI client that does not normalize: the runner refuses
for my $case (['SCRIPT_NAME', '/../secret.php'],
              ['SCRIPT_NAME', '/a/../../secret.php'],
              ['PATH_INFO', '/../secret.php'],
              ['PATH_INFO', '/./../secret.php'],
              ['SCRIPT_NAME', "/index.php\0/x"],
              ['SCRIPT_NAME', 'secret.php']) {
    my $x = $t->fcgi_call('site', params => [@$case]);
    my $v = $case->[1] =~ s/\0/\\0/r;
    is($x->{http}{status}, 404, "raw $case->[0] \"$v\": 404");
    unlike($x->{stdout}, qr/secret ran/, 'and nothing ran');
}

# stock nginx (fastcgi_params: SCRIPT_NAME the whole URI, PATH_INFO the
# location's capture): the same as through the module's route
for my $u ('/fn/site/a/b.php/x?q=3', '/fn/site/', '/fn/site/lib/exe/css.php',
           '/fn/site/fn/site/a/b.php') {
    my $a = on($stock_port, 'http_get', $u);
    my $b = on($faas_port, 'http_get', $u);
    is($a->{status}, $b->{status}, "stock fastcgi_pass $u: status "
       . "$b->{status} as through the route");
    is($a->{body}, $b->{body}, "stock fastcgi_pass $u: the same body");
}
like(on($stock_port, 'http_get', '/fn/site/a/b.php/x')->{body},
     qr{^SCRIPT_NAME=/fn/site/a/b\.php\nPATH_INFO=/x$}m,
     'stock fastcgi_pass: SCRIPT_NAME and PATH_INFO split');

# an empty path, or only slashes: the root's index
for my $sn ('', '///') {
    my $x = $t->fcgi_call('site', params => [SCRIPT_NAME => $sn]);
    is($x->{http}{status}, 200, "raw SCRIPT_NAME \"$sn\": 200");
    like($x->{http}{body}, qr{^script=\Q$dir\E/www/index\.php$}m,
         'the root\'s index');
}

# a function mounted by a route: SCRIPT_NAME is where it is mounted
$r = on($faas_port, 'http_get', '/fn/site/a/b.php/x');
is($r->{status}, 200, 'through a route');
like($r->{body}, qr{^SCRIPT_NAME=/fn/site/a/b\.php$}m,
     'SCRIPT_NAME: the mount and the script');
like($r->{body}, qr{^PATH_INFO=/x$}m, 'PATH_INFO: the rest');
like($r->{body}, qr{^script=\Q$dir\E/www/a/b\.php$}m, 'the script');
$r = on($faas_port, 'http_get', '/fn/site/');
like($r->{body}, qr{^SCRIPT_NAME=/fn/site/index\.php$}m,
     'the mount\'s folder: its index');
# the mount named without its slash (DESIGN's route, path_info empty:
# the module says FAAS_MOUNT) is redirected to it, as a folder is; a
# URI that only ends like the function's name is not a mount (the
# location's faas_function: its path under the root), nor is stock
# fastcgi_pass's (nothing says where it is mounted)
$r = on($faas_port, 'http_get', '/fn/site?q=1');
is($r->{status}, 301, '/fn/site: 301');
is(FaasTest::header($r, 'location'), '/fn/site/?q=1',
   '... to /fn/site/ with its query');
for my $u ('/site', '/blog/site', '/x.php/site') {
    is(on($faas_port, 'http_get', $u)->{status}, 404,
       "$u through faas_function: a path of the root, 404");
}
is(on($faas_port, 'http_get', '/fn/site/a/site')->{status}, 404,
   '/fn/site/a/site: a path under the mount, 404');
is(on($stock_port, 'http_get', '/fn/site')->{status}, 404,
   '/fn/site through stock fastcgi_pass: 404');
# a mount that ends with its slash is its root, never redirected to
# itself (a route "^/(?<path_info>.*)$" on "/")
{
    my $x = $t->fcgi_call('site', params => [SCRIPT_NAME => '/',
                                             PATH_INFO => '',
                                             FAAS_MOUNT => '1']);
    is($x->{http}{status}, 200, 'FAAS_MOUNT with SCRIPT_NAME "/": no loop, '
       . '200');
    like($x->{http}{body}, qr{^script=\Q$dir\E/www/index\.php$}m,
         '... the root\'s index');
}
for my $sn ('http://evil.example/site', 'site') {
    my $x = $t->fcgi_call('site', params => [SCRIPT_NAME => $sn,
                                             PATH_INFO => '',
                                             FAAS_MOUNT => '1']);
    is($x->{http}{status}, 404, "FAAS_MOUNT with SCRIPT_NAME \"$sn\": "
       . 'no redirect, 404');
}
# a path that begins with "//" (nginx's merge_slashes off) is never
# redirected to another host ("//host/": a URL without its scheme)
# (a folder's, and a mount's)
for my $c (['//a'], ['///a'], ['//evil.example/site', FAAS_MOUNT => '1']) {
    my ($sn, @mount) = @$c;
    my $x = $t->fcgi_call('site', params => [SCRIPT_NAME => $sn, @mount]);
    is($x->{http}{status}, 301, "raw SCRIPT_NAME \"$sn\": 301");
    like($x->{stdout}, qr{^Location: /[^/]}m, '... to a path of this site')
        or diag($x->{stdout});
}

# the customer's site
$r = on($faas_port, 'http_get', '/fn/cust/ok.php');
is($r->{status}, 200, 'a customer\'s site: 200');
like($r->{body}, qr{^SCRIPT_FILENAME=\Q$cdir\E/www/ok\.php$}m, 'its script');
for my $case (['/fn/cust/mine.php', 'its own symlink out of the root'],
              ['/fn/cust/vault.php', 'its symlink to root\'s file'],
              ['/fn/cust/rootonly/x.php', 'a script it cannot reach']) {
    $r = on($faas_port, 'http_get', $case->[0]);
    is($r->{status}, 404, "$case->[1]: 404");
    is($r->{body}, "404 Not Found\n", "$case->[1]: the runner's, no php");
}

# mode = cgi: the same scripts (in the folder of another function)
for my $u ('/a/b.php/more?q=2', '/', '/lib/exe/css.php') {
    my $a = on($cgi_port, 'http_get', $u);
    $a->{body} =~ s{/functions/sitecgi/}{/functions/site/}g;
    my $b = on($fpm_port, 'http_get', $u);
    is($a->{body}, $b->{body}, "mode = cgi $u: body as php-fpm");
}
is(on($cgi_port, 'http_get', '/nope.php')->{status}, 404,
   'mode = cgi: a missing script 404');

like($t->runner_log,
     qr/function\.conf:3: "script" and "document_root" exclude each other/,
     'script and document_root together: refused');
is(on($faas_port, 'http_get', '/fn/both/index.php')->{status}, 404,
   'and that function is not loaded');

# --test: what is wrong, with file and line
my $bad = FaasTest->new;
$bad->function('nodir', "exec = php-cgi\ndocument_root = nothere\n");
$bad->function('updir', "exec = php-cgi\ndocument_root = ../site\n");
$bad->function('index', "exec = php-cgi\ndocument_root = .\n"
                        . "index = a/b.php\n");
$bad->function('good', "exec = php-cgi\ndocument_root = .\n");
my $out = `$t->{runner_bin} --test --functions ${\ $bad->functions_dir } 2>&1`;
is($? >> 8, 1, '--test: problems exit 1');
like($out, qr/function "nodir": document_root "nothere" is not a folder/,
     '--test: a missing document_root');
like($out, qr{updir/function\.conf:2: document_root "\.\./site" is not a},
     '--test: one outside');
like($out, qr/is not a folder inside the function's/, '--test: it says so');
like($out, qr{index/function\.conf:3: index "a/b\.php" is not a file name},
     '--test: an index that is a path');
unlike($out, qr/"good"/, '--test: a good one passes');
$bad->done;

$t->stop_php_fpm;

$t->done;
done_testing;
