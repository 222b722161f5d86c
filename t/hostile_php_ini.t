#!/usr/bin/perl

# A customer's php.NAME. php-fpm's php_admin_value is the host's: a
# customer changes what a .user.ini may, never disable_functions,
# ffi.enable or an extension. Here a customer writes its own
# function.conf, so its php.NAME must not undo what the host set.
# Promises: a customer's function sets only what PHP lets a script or a
# .user.ini change (PHP_INI_USER, PHP_INI_PERDIR), applied for every
# request and locked; a setting only the host may set (ffi.enable,
# disable_functions, opcache.preload) starts no worker (502, its log
# says which) and --test names it; the runner's configuration's
# php.NAME are the host's defaults, which a customer's value replaces
# as a .user.ini's would: open_basedir only narrower (a wider one
# starts no worker); an extension, in any case of its name, is never
# loaded (a library whose constructor leaves a mark leaves none). An
# operator's (root's) function may still set what the host may.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need(-x "$FaasTest::BUILD/faas-php",
               'faas-php (make, with php8.2-dev and libphp8.2-embed)');
FaasTest::need_root('customers\' folders owned by their users');

my $t = FaasTest->new;
my $p = $t->prefix;
my ($duid, $dgid) = (getpwnam('daemon'))[2, 3];

# a library that leaves a mark when it is loaded: an "extension"
my $mark = "$p/marks";
mkdir $mark;
chmod 01777, $mark;
FaasTest::write_file("$p/evil.c", <<"EOF");
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void evil(void)
{
    int fd = open("$mark/loaded", O_CREAT | O_WRONLY, 0666);
    if (fd != -1) close(fd);
}
EOF
system('cc', '-shared', '-fPIC', '-o', "$p/evil.so", "$p/evil.c") == 0
    or die 'cc evil.so';
chmod 0755, "$p/evil.so";

my $show = "<?php\n"
    . "var_dump(ini_set('memory_limit', '1G'));\n"
    . "echo ini_get('upload_max_filesize'), ' ', ini_get('memory_limit'),"
    . " ' ', ini_get('open_basedir'), ' ', ini_get('disable_functions'),"
    . " ' ', function_exists('exec') ? 'exec' : 'no-exec', \"\\n\";\n";

sub customer {
    my ($name, $conf) = @_;
    my $dir = $t->function($name, "runtime = php\nscript = s.php\n$conf",
                           's.php' => $show);
    system('chown', '-R', "$duid:$dgid", $dir) == 0 or die 'chown';
    return $dir;
}

# what a .user.ini may set: taken, for every request, locked
customer('mine', "php.upload_max_filesize = 3M\nphp.memory_limit = 64M\n");
# the host's defaults alone; a narrower open_basedir
customer('plain', '');
customer('narrow', "php.open_basedir = " . $t->functions_dir . "/narrow\n");
# what only the host sets
customer('ffi', "php.ffi.enable = 1\n");
customer('undisable', "php.disable_functions =\n");
customer('preload', "php.opcache.preload = s.php\n");
# the host's open_basedir, widened
customer('basedir', "php.open_basedir = /\n");
# an extension, its name's case changed
customer('ext', "php.Extension = $p/evil.so\n");
customer('zext', "php.ZEND_EXTENSION = $p/evil.so\n");
# an operator's function: the host's to set
$t->function('op', "runtime = php\nscript = s.php\n"
                   . "php.disable_functions = exec\n", 's.php' => $show);
# the host's php.NAME are every function's defaults, not a problem of
# the functions that are no PHP (they were refused: "php.NAME is for
# runtime = php")
$t->function('notphp', "exec = " . $t->testfn . "\n");

my $host = "php.open_basedir = /tmp:" . $t->functions_dir . "\n"
         . "php.upload_max_filesize = 8M\n";

# --test first: it names each, and never loads the library
my $rconf = "$p/check.conf";
FaasTest::write_file($rconf, $t->runner_conf_text($host));
my $out = `$t->{runner_bin} --config $rconf --test 2>&1`;
is($? >> 8, 1, '--test: a customer\'s host-only settings are problems');
like($out, qr/php\.ffi\.enable: only the host sets it/, '... ffi.enable');
like($out, qr/php\.disable_functions: only the host sets it/,
     '... disable_functions');
like($out, qr/php\.opcache\.preload: only the host sets it/,
     '... opcache.preload');
like($out, qr{invalid "php.Extension = \S+evil.so"}, '... php.Extension');
like($out, qr{invalid "php.ZEND_EXTENSION = \S+evil.so"},
     '... php.ZEND_EXTENSION');
unlike($out, qr{/mine/function.conf}, '... not what a .user.ini may');
unlike($out, qr{/op/function.conf}, '... nor the operator\'s');
unlike($out, qr{notphp}, '... nor a function that is no PHP');

$t->start_runner(conf => $host);
$t->start_nginx($t->faas_location);

is($t->http_get('/fn/notphp')->{status}, 200,
   'a function that is no PHP, the host\'s php.NAME set: served');

my $r = $t->http_get('/fn/mine');
is($r->{status}, 200, 'a customer\'s .user.ini kind of setting: served');
is($r->{body}, "bool(false)\n3M 64M /tmp:" . $t->functions_dir
   . "  exec\n", '... taken, locked (ini_set fails), the host\'s too');
is($t->http_get('/fn/mine')->{body}, $r->{body},
   '... the same at the next request (not undone at a request\'s end)');

for my $fn ('ffi', 'undisable', 'preload') {
    is($t->http_get("/fn/$fn")->{status}, 502,
       "a customer's host-only setting ($fn): no worker, 502");
}
like($t->runner_log, qr/faas-php: php\.ffi\.enable: only the host sets it/,
     '... its log says which');

is($t->http_get('/fn/plain')->{body}, "string(4) \"112M\"\n8M 1G /tmp:"
   . $t->functions_dir . "  exec\n", 'the host\'s defaults (8M)');
is($t->http_get('/fn/narrow')->{body}, "string(4) \"112M\"\n8M 1G "
   . $t->functions_dir . "/narrow  exec\n",
   'a customer\'s open_basedir narrower than the host\'s: taken');
is($t->http_get('/fn/basedir')->{status}, 502,
   'a customer\'s open_basedir wider than the host\'s: no worker, 502');
like($t->runner_log, qr{faas-php: php\.open_basedir: PHP did not take},
     '... its log says which');
is($t->http_get('/fn/ext')->{status}, 404, 'php.Extension: not loaded');
is($t->http_get('/fn/zext')->{status}, 404, 'php.ZEND_EXTENSION: the same');

is($t->http_get('/fn/op')->{body}, "string(4) \"112M\"\n8M 1G /tmp:"
   . $t->functions_dir . " exec no-exec\n",
   'an operator\'s function sets disable_functions');

# faas-php itself, told by another than the runner: no extension either
my $php = "$FaasTest::BUILD/faas-php";
for my $name ('extension', 'Extension', 'ZEND_extension') {
    my $o = `$php --check -a $name=$p/evil.so 2>&1`;
    isnt($? >> 8, 0, "faas-php -a $name=...: refused");
    $o = `$php --check -u $name=$p/evil.so 2>&1`;
    isnt($? >> 8, 0, "faas-php -u $name=...: refused");
}
my $o = `$php --check -u disable_functions= 2>&1`;
like($o, qr/php\.disable_functions: only the host sets it/,
     'faas-php -u disable_functions=: refused');

ok(!-e "$mark/loaded", 'the library was never loaded');

is($t->stop_runner, 0, 'the runner stops cleanly');

$t->done;
done_testing;
