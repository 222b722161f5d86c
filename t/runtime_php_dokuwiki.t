#!/usr/bin/perl

# DokuWiki, unchanged, as a function with runtime = php: the steps of
# t/runner_dokuwiki.t (a page, its CSS and JS, the feed, a login, an
# edit saved through the form with its sectok, a search, a media upload
# and its fetch), each compared with php-fpm serving its twin.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need(-x "$FaasTest::BUILD/faas-php",
               'faas-php (make, with php8.2-dev and libphp8.2-embed)');

$ENV{FAAS_WIKI_RUNTIME} = 'php';
FaasTest::run_test_file('runner_dokuwiki', 'with runtime = php');

done_testing;
