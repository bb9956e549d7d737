"""Segment-parallel super-resolution of videos with `ffmpeg -vf espcn` on a Ray cluster.

The command is cluster/espcn_ray.py; the modules:
  media     ffprobe/ffmpeg: probing, keyframes, splitting, joining, verifying
  plan      cutting a video into segments at keyframes
  manifest  what is done and verified, so that a re-run skips it
  tasks     the Ray task (one segment through ffmpeg -vf espcn) and the progress actor
  driver    the whole job: plan, submit, collect, assemble, verify
"""
