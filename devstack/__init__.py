"""The local stack: moto server, resources, chalice local and the event pump.
Nothing here runs on AWS."""
