"""Audiences marketing tools load, and the measured uplift of every campaign.

``audiences`` selects each configured audience from a night's published tables (the control
group and the global control held out), ``exports`` writes the files a tool uploads,
``groups`` freezes a campaign's treated and control customers at its start, ``outcomes``
reads who converted and what they spent from the lake, ``stats`` holds the statistics and
``results`` builds the nightly ``campaign_results``. Pure functions over frames and files:
the pipeline steps ``export_audiences`` and ``measure_campaigns`` load and save.
"""
