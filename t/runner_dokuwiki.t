#!/usr/bin/perl

# DokuWiki (Debian's package), an application nobody here wrote, with
# several entry points: doku.php, lib/exe/css.php, lib/exe/js.php,
# feed.php, lib/exe/taskrunner.php. One copy runs as a function with
# document_root through php-cgi, its twin under php-fpm behind the same
# nginx; the same steps on both give the same status and the same HTML,
# CSS, JS and RSS, save tokens and times: a page, its CSS and JS, the
# feed, an edit saved through the form (with its sectok and session
# cookie), a search that finds it, a media upload and its fetch.
# FAAS_WIKI_RUNTIME=php runs the function with runtime = php instead
# (t/runtime_php_dokuwiki.t).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Digest::MD5 qw(md5_hex);
use POSIX qw(:sys_wait_h);

my ($fpm) = grep { -x } map { "/usr/sbin/php-fpm$_" } ('8.2', '');
($fpm) = glob('/usr/sbin/php-fpm*') unless $fpm;
FaasTest::need($fpm, 'php-fpm (make test-deps installs it)');
FaasTest::need(-x '/usr/bin/php-cgi', 'php-cgi (make deps installs it)');
FaasTest::need(-f '/usr/share/dokuwiki/doku.php',
               'dokuwiki (make test-deps installs it)');
FaasTest::need_root('running the wiki as www-data');

my $t = FaasTest->new;
my $p = $t->prefix;
my (undef, undef, $wuid, $wgid) = getpwnam('www-data');

# a copy of the package's wiki in $root: www (the code, root's), conf
# and data (www-data's), nothing shared with /etc or /var/lib
sub wiki {
    my ($root) = @_;
    mkdir $root;
    chmod 0755, $root;
    system('cp', '-rL', '/usr/share/dokuwiki', "$root/www") == 0
        && system('cp', '-rL', '/etc/dokuwiki', "$root/conf") == 0
        && system('cp', '-a', '/var/lib/dokuwiki/data', "$root/data") == 0
        or die "cannot copy dokuwiki into $root";
    FaasTest::write_file("$root/www/inc/preload.php", <<"EOF");
<?php
if (!defined('DOKU_CONF')) define('DOKU_CONF', '$root/conf/');
EOF
    open my $f, '>>', "$root/conf/local.php" or die;
    print $f "\$conf['savedir'] = '$root/data';\n",
             "\$conf['title'] = 'faas wiki';\n";
    close $f;
    # a user who may edit, so that forms carry a sectok
    FaasTest::write_file("$root/conf/users.auth.php",
                         "faas:" . md5_hex('faas-pass')
                         . ":Faas:faas\@localhost:user\n");
    FaasTest::write_file("$root/conf/acl.auth.php",
                         "*\t\@ALL\t1\n*\t\@user\t8\n");
    system('chown', '-R', "$wuid:$wgid", "$root/conf", "$root/data") == 0
        or die 'chown';
}

my $runtime = ($ENV{FAAS_WIKI_RUNTIME} // '') eq 'php' ? "runtime = php\n"
                                                      : "exec = php-cgi\n";
my $fdir = $t->function('wiki', "${runtime}document_root = www\n"
                                . "user = www-data\ngroup = www-data\n"
                                . "memory = 512M\n");
wiki($fdir);
wiki("$p/fpm-wiki");

ok($t->start_php_fpm, 'php-fpm up')
    or diag(FaasTest::read_file("$p/logs/php-fpm.out"));

$t->start_runner;

my $sock = $t->socket_path;
my $faas_port = $t->port;
my $fpm_port = FaasTest::free_port();

$t->start_nginx(<<"EOF");
    upstream runner { server unix:$sock; keepalive 4; }

    server {
        listen 127.0.0.1:$faas_port;
        client_max_body_size 16m;

        location / {
            faas_function wiki;
            faas_pass runner;
            faas_read_timeout 60s;
        }
    }

@{[ $t->php_fpm_server($fpm_port, "$p/fpm-wiki/www",
                       server => 'client_max_body_size 16m;',
                       php => 'fastcgi_read_timeout 60s;') ]}
EOF

# each side keeps its cookies (the session, DokuWiki's own)
my %jar = ($faas_port => {}, $fpm_port => {});

sub request {
    my ($port, $method, $uri, $body, $type) = @_;
    my $jar = $jar{$port};
    my $h = "Host: localhost\r\nUser-Agent: faas-test\r\n";
    $h .= 'Cookie: ' . join('; ', map { "$_=$jar->{$_}" } sort keys %$jar)
          . "\r\n" if %$jar;
    my $req = "$method $uri HTTP/1.0\r\n$h";
    $req .= defined $body
          ? 'Content-Type: '
            . ($type // 'application/x-www-form-urlencoded') . "\r\n"
            . 'Content-Length: ' . length($body) . "\r\n\r\n$body"
          : "\r\n";
    local $t->{port} = $port;
    my $r = $t->http($req, timeout => 60)
        // { status => 0, body => '', headers => {} };
    for (@{ $r->{headers}{'set-cookie'} // [] }) {
        next unless /^([^=;\s]+)=([^;]*)/;
        if ($2 eq 'deleted' || $2 eq '') {
            delete $jar->{$1};
        } else {
            $jar->{$1} = $2;
        }
    }
    return $r;
}

# what differs between two runs by design: tokens, times (and ages), the
# paths of the two copies
sub norm {
    my ($s) = @_;
    $s =~ s{\Q$p\E/(?:functions/wiki|fpm-wiki)}{ROOT}g;
    $s =~ s/\b[0-9a-f]{32}\b/HASH/g;
    $s =~ s/\btok=[0-9a-f]{6}\b/tok=TOKEN/g;
    $s =~ s/\b1[6-9]\d{8}\b/TIME/g;
    $s =~ s{\d{4}[/-]\d\d[/-]\d\d[ T]\d\d:\d\d(?::\d\d)?(?:[+-]\d\d:?\d\d|Z)?}
           {DATE}g;
    $s =~ s/\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}/DATE/g;
    # a page's age, told at each request (two requests: two ages)
    $s =~ s/\b\d+ (?:year|month|week|day|hour|minute|second)s ago\b/AGO/g;
    return $s;
}

sub both {
    my ($what, $method, $uri, $body, $type) = @_;
    my $a = request($faas_port, $method, $uri, $body, $type);
    my $b = request($fpm_port, $method, $uri, $body, $type);
    is($a->{status}, $b->{status}, "$what: status $b->{status} as php-fpm");
    my $same = norm($a->{body}) eq norm($b->{body});
    ok($same, "$what: the same " . length($b->{body}) . ' bytes but '
              . 'tokens and times')
        or diag_diff($a->{body}, $b->{body});
    is(FaasTest::header($a, 'content-type'),
       FaasTest::header($b, 'content-type'), "$what: Content-Type");
    return ($a, $b);
}

sub diag_diff {
    my ($x, $y) = map { [ split /\n/, norm($_) ] } @_;
    for my $i (0 .. $#$y) {
        next if ($x->[$i] // '') eq $y->[$i];
        diag("line $i:\n  faas: " . substr($x->[$i] // '', 0, 300)
             . "\n  fpm:  " . substr($y->[$i], 0, 300));
        last;
    }
}

my ($a, $b) = both('a page', 'GET', '/doku.php?id=wiki:syntax');
is($a->{status}, 200, 'the syntax page: 200');
like($a->{body}, qr{<title>wiki:syntax \[faas wiki\]</title>},
     'the wiki page itself');

# the page names its CSS and JS with a cache seed
my ($css) = $a->{body} =~ m{href="(/lib/exe/css\.php\?[^"]+)"};
my ($js) = $a->{body} =~ m{src="(/lib/exe/js\.php\?[^"]+)"};
ok($css && $js, 'the page links lib/exe/css.php and lib/exe/js.php');
$_ =~ s/&amp;/&/g for grep { defined } $css, $js;

($a) = both('its CSS', 'GET', $css // '/lib/exe/css.php');
like(FaasTest::header($a, 'content-type'), qr{^text/css}, 'CSS is text/css');
unlike($a->{body}, qr/<html/i, 'and not a wiki page');
ok(length $a->{body} > 10000, 'the whole style sheet');

($a) = both('its JS', 'GET', $js // '/lib/exe/js.php');
like(FaasTest::header($a, 'content-type'), qr{javascript},
     'JS is javascript');
like($a->{body}, qr/DOKU_BASE/, 'the wiki\'s scripts');

($a) = both('the feed', 'GET', '/feed.php');
like($a->{body}, qr{<rss version="2.0"|<rdf:RDF}, 'RSS');

# a login, then an edit through the form: its sectok, the cookies
both('the login form', 'GET', '/doku.php?id=start&do=login');
($a, $b) = both('a login', 'POST', '/doku.php',
                'do=login&id=start&sectok=&u=faas&p=faas-pass');
is($a->{status}, 302, 'logged in: redirected');
ok(grep({ /^DW/ } keys %{ $jar{$faas_port} }), 'with its cookie');
my $page = 'playground:playground';
my $text = "====== faas ======\n\nEdited through the faas runner: "
         . "zebrafinch.\n";
my %saved;

for my $port ($faas_port, $fpm_port) {
    my $e = request($port, 'GET', "/doku.php?id=$page&do=edit");
    my ($form) = $e->{body} =~ m{(<form id="dw__editform".*?</form>)}s;
    my %f;
    for my $input (($form // '') =~ m{<input\b([^>]*)>}g) {
        my %at = $input =~ m{(\w+)="([^"]*)"}g;
        $f{$at{name}} = $at{value} // ''
            if ($at{type} // '') eq 'hidden' && defined $at{name};
    }
    $f{$_} =~ s/&quot;/"/g for keys %f;
    $f{wikitext} = $text;
    $f{summary} = 'faas test';
    $f{'do[save]'} = 'Save';
    my $post = join '&', map { esc($_) . '=' . esc($f{$_}) } sort keys %f;
    $saved{$port} = [ $e, \%f, request($port, 'POST', '/doku.php', $post) ];
}

sub esc {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

my ($fe, $ff, $fs) = @{ $saved{$faas_port} };
my ($pe, $pf, $ps) = @{ $saved{$fpm_port} };
is($fe->{status}, 200, 'the edit form: 200');
is(norm($fe->{body}), norm($pe->{body}), 'the edit form as php-fpm\'s')
    or diag_diff($fe->{body}, $pe->{body});
ok($ff->{sectok}, 'it carries a sectok')
    or diag(join ' ', map { "$_=$ff->{$_}" } sort keys %$ff);
ok(exists $jar{$faas_port}{DokuWiki}, 'and a session cookie');
is($fs->{status}, $ps->{status}, "saved: status $ps->{status} as php-fpm");
like($fs->{status}, qr/^30[23]$/, 'the save redirects to the page');
is(FaasTest::header($fs, 'location'), FaasTest::header($ps, 'location'),
   'to the same place');

($a) = both('the edited page', 'GET', "/doku.php?id=$page");
like($a->{body}, qr/Edited through the faas runner: zebrafinch/,
     'the edit is saved');
my $saved = "$fdir/data/pages/playground/playground.txt";
ok(-f $saved && FaasTest::read_file($saved) eq $text,
   'in the function\'s data');
is((stat $saved)[4], $wuid, 'written by its user');

# the indexer (an entry point of its own), then a search finds the page
for my $port ($faas_port, $fpm_port) {
    request($port, 'GET', "/lib/exe/taskrunner.php?id=$page") for 1 .. 3;
}
($a) = both('a search', 'GET', '/doku.php?do=search&id=start&q=zebrafinch');
like($a->{body}, qr{<dl class="search_results">.*?playground:playground}s,
     'it finds the edited page');

# a media upload (multipart, with the session's sectok), then fetch.php
# gives the same bytes back
my $gif = "GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
        . "!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01"
        . "\x00\x00\x02\x02D\x01\x00;";
my $bnd = 'faas-boundary-7d3e';
my %up;

for my $port ($faas_port, $fpm_port) {
    my $tok = ($port == $faas_port ? $ff : $pf)->{sectok};
    my $body = join '', map {
        "--$bnd\r\nContent-Disposition: form-data; name=\"$_->[0]\"\r\n"
        . "\r\n$_->[1]\r\n"
    } ['sectok', $tok], ['mediaid', 'faas.gif'], ['ow', '1'];
    $body .= "--$bnd\r\nContent-Disposition: form-data; name=\"upload\"; "
           . "filename=\"faas.gif\"\r\nContent-Type: image/gif\r\n\r\n"
           . "$gif\r\n--$bnd--\r\n";
    $up{$port} = request($port, 'POST',
                         '/lib/exe/mediamanager.php?ns=playground', $body,
                         "multipart/form-data; boundary=$bnd");
}
is($up{$faas_port}{status}, $up{$fpm_port}{status},
   "the upload: status $up{$fpm_port}{status} as php-fpm");
is(norm($up{$faas_port}{body}), norm($up{$fpm_port}{body}),
   'the upload: the same answer')
    or diag_diff($up{$faas_port}{body}, $up{$fpm_port}{body});
ok(-f "$fdir/data/media/playground/faas.gif", 'the file is in its media');
($a) = both('fetch.php of it', 'GET',
            '/lib/exe/fetch.php?media=playground:faas.gif');
is($a->{body}, $gif, 'the same bytes back');
is(FaasTest::header($a, 'content-type'), 'image/gif', 'as image/gif');

# the recent changes feed names the edit too
# (another URL: the first one is cached for rss_update)
($a) = both('the feed after the edit', 'GET', '/feed.php?num=5');
like($a->{body}, qr/faas test|playground/, 'with the edit');

$t->stop_php_fpm;

$t->done;
done_testing;
