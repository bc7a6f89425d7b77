#!/usr/bin/perl
# The benchmark's reference: gpgit.pl's PGP/MIME path (Mike Cardwell's gpgit, as the tutorial installs it),
# reduced to what a message goes through. Usage: GPGIT_KEYDIR=<gnupg home> gpgit-reference.pl RECIPIENT...
# Bench only: it must keep gpgit's behaviour (and cost), not improve on it.
use strict;
use warnings;
use Mail::GnuPG;
use MIME::Parser;

my @recipients = @ARGV;
die "usage: gpgit-reference.pl recipient...\n" unless @recipients;

# gpgit runs as the gpgit user with ~/.gnupg holding trusted public keys; the bench points keydir at its keyring
# and uses always_trust instead of `--edit-key ... trust`.
my $gpg = Mail::GnuPG->new(
  (defined $ENV{GPGIT_KEYDIR} ? (keydir => $ENV{GPGIT_KEYDIR}) : ()),
  always_trust => 1,
);

# gpgit: pass the message through unchanged when any recipient has no key (this lists the keyring via gpg).
foreach (@recipients) {
  unless ($gpg->has_public_key($_)) {
    print while <STDIN>;
    exit 0;
  }
}

my $plain = do { local $/; <STDIN> };

my $parser = MIME::Parser->new();
$parser->decode_bodies(1);
$parser->output_to_core(1);
my $mime = $parser->parse_data($plain);

if ($gpg->is_encrypted($mime)) {
  print $plain;
  exit 0;
}

$mime->make_singlepart;
my $code = $gpg->mime_encrypt($mime, @recipients);
if ($code) {
  print $plain;
  exit 0;
}

$mime->head()->delete($_) foreach qw(DKIM-Signature DomainKey-Signature);
print $mime->stringify;
