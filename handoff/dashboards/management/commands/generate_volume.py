"""`generate_volume` fills an empty database with the volume of a large company
(``handoff.dashboards.volume``), for the page benchmark (``make bench-pages``)."""

import time

from django.core.management.base import BaseCommand, CommandError

from handoff.dashboards import volume


class Command(BaseCommand):
    help = ("Generate a realistic volume (50 teams, 500 users, 100 000 handovers, 20 000 incidents, "
            "a million metric observations at --scale 1) into an empty database.")

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0,
                            help="Shrink (or grow) every count proportionally; 0.01 is a hundredth.")
        parser.add_argument("--seed", type=int, default=16, help="The same seed makes the same data.")
        parser.add_argument("--force", action="store_true",
                            help="Add the volume to a database that already holds other data.")

    def handle(self, *args, scale, seed, force, **options):
        if not scale > 0:
            raise CommandError(f"--scale must be a positive number, such as 1.0 or 0.01; got {scale}.")
        if volume.holds_volume():
            raise CommandError("This database already holds a generated volume (team "
                               f"{volume.TEAM_SLUG.format(1)}); drop and create the database to generate "
                               "it again.")
        existing = volume.existing_data()
        if existing and not force:
            held = ", ".join(f"{n:,} {name}" for name, n in existing.items())
            raise CommandError(f"This database already holds data ({held}). generate_volume fills an empty "
                               "database (createdb, then migrate); pass --force to add the volume beside it.")
        started = time.perf_counter()
        written = volume.generate(scale=scale, seed=seed, out=self.stdout.write)
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(
            f"Volume ready in {elapsed:.1f} s: {sum(written.values()):,} rows in {len(written)} tables."))
        teams = volume.plan(scale)["teams"]
        for username, what in volume.accounts(teams):
            self.stdout.write(f"  {username:<8} {what}")
        self.stdout.write(f"Every generated account's password is: {volume.PASSWORD}")
