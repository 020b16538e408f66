"""Insights: how the team is doing, from the incidents, tasks and postmortems recorded.

``rules`` (pure: buckets, statistics, series), ``svg`` (pure: the charts), ``report`` (reads
them with a fixed number of statements from ``storage.insights``).
"""
