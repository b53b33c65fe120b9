"""The processing pipeline: pure steps that turn a stored event into a plan of writes."""
