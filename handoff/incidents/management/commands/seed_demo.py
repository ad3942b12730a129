"""`seed_demo` lives in incidents, the highest app it fills: it adds the
teams demo (teams.demo), the handovers on it (handovers.demo), an agreed
contract with three candidates (contracts.demo), and the deployment,
metrics and incidents (incidents.demo), and what that deployment is worth
(deployments.demo)."""

from django.core.management.base import BaseCommand

from handoff.contracts.demo import seed_contracts
from handoff.deployments.demo import seed_value
from handoff.handovers.demo import seed_handovers
from handoff.incidents.demo import seed_production
from handoff.teams.demo import PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Create the demo teams, projects and accounts (safe to run again; resets the demo passwords)."

    def handle(self, *args, **options):
        demo = seed_demo()
        seed_handovers(demo)
        seed_contracts(demo)
        seed_production(demo)
        seed_value(demo)
        self.stdout.write(self.style.SUCCESS(
            f"Demo ready: {len(demo.teams)} teams, {len(demo.projects)} projects, {len(demo.users)} accounts."
        ))
        width = max(len(username) for username, _ in demo.accounts())
        for username, what in demo.accounts():
            self.stdout.write(f"  {username.ljust(width)}  {what}")
        self.stdout.write(f"Every demo account's password is: {PASSWORD}")
