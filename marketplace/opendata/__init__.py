"""Open data: OCDS 1.1.5 release packages of the market's requests, awards, contracts and payments."""
