<?php
// The test users of one end-to-end IdP tenant (TEST ONLY): exampleauth:UserPass, users and
// attributes from e2e.json ("login:password" => [attribute => [values]]).
$e2e = json_decode(file_get_contents(__DIR__ . '/e2e.json'), true, 512, JSON_THROW_ON_ERROR);

$config = [
    'admin' => ['core:AdminPassword'],
    'e2e-users' => array_merge(['exampleauth:UserPass'], $e2e['users']),
];
