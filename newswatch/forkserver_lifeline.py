"""Imported by the extraction pool's forkserver only (its preload list): the
forkserver ends with the run that started it. Never import it elsewhere: the
importing process would be tied to its own parent. See newswatch/lifeline.py."""

from newswatch.lifeline import watch_parent

watch_parent()
