<?php
// The relying parties the WS-Federation IdP trusts: one entry per fedrp realm. `prp` is where
// tokens are posted and where wsignoutcleanup1.0 goes; `signature.algorithm` is the per-RP
// signature algorithm (the adfs module always digests with SHA-256).
$e2e = json_decode(file_get_contents(dirname(__DIR__) . '/e2e.json'), true, 512, JSON_THROW_ON_ERROR);

foreach ($e2e['sps'] as $sp) {
    $metadata[$sp['entity_id']] = [
        'prp' => $sp['prp'],
        'simplesaml.nameidattribute' => $e2e['nameid_attribute'],
        'signature.algorithm' => $sp['signature_algorithm'],
    ];
}
