"""Status updates for stakeholders: ``/incident update``, posted in the incident's channel,
``ANNOUNCE_CHANNEL`` and the channel it was declared in, threaded under the first message."""
