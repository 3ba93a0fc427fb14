"""Tests of the pure dialogue, one module per flow (bot/dialogue/flows/)."""
