"""Readers and writers: trial lists, score files, embedding stores, audio."""
