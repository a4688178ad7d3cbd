"""Generations and rebuilds: the registry of generations, the supervisor that runs their
consumers and switches a caught-up rebuild live, and what it reads of the Kafka log and of the
platform's consumer state."""
