"""The shape of a team dashboard's figures, for the OpenAPI schema (the data is
``selectors.team_figures``, the same the page and the CSV show)."""

from rest_framework import serializers as s


class Named(s.Serializer):
    slug = s.CharField()
    name = s.CharField()


class PeriodSerializer(s.Serializer):
    days = s.IntegerField()
    start = s.DateTimeField(help_text="Inclusive")
    end = s.DateTimeField(help_text="Exclusive: the end of today")


class SpreadSerializer(s.Serializer):
    count = s.IntegerField()
    median_hours = s.FloatField(allow_null=True, help_text="Nearest-rank median")
    p90_hours = s.FloatField(allow_null=True, help_text="Nearest-rank 90th percentile")


class HandoverFigures(s.Serializer):
    accepted = s.IntegerField(help_text="Handovers accepted in the period")
    lead_time = SpreadSerializer(help_text="Revision 1 submitted -> accepted, of handovers accepted then")
    review_wait = SpreadSerializer(help_text="A revision's submission -> its review, of reviews then")
    first_runs = s.IntegerField(help_text="Handovers whose first validation run finished in the period")
    first_pass_rate = s.FloatField(allow_null=True, help_text="Share of those whose first run passed")
    change_requests = s.IntegerField()
    change_requests_per_accepted = s.FloatField(allow_null=True)
    contracts_selected = s.IntegerField(help_text="Contracts whose candidate was selected in the period")
    candidates_per_contract = s.FloatField(allow_null=True)


class FailureSerializer(s.Serializer):
    check = s.CharField()
    failures = s.IntegerField()


class ProductionFigures(s.Serializer):
    deployed_models = s.IntegerField(help_text="Models serving in production at the period's end")
    currency = s.CharField()
    monthly_value = s.DecimalField(max_digits=16, decimal_places=2)
    monthly_cost = s.DecimalField(max_digits=16, decimal_places=2)
    monthly_net = s.DecimalField(max_digits=16, decimal_places=2)
    valued_deployments = s.IntegerField(help_text="Deployments with a monthly value recorded")
    value_at_risk = s.DecimalField(max_digits=16, decimal_places=2,
                                   help_text="Monthly value of deployments with an incident being worked")


class SeveritySerializer(s.Serializer):
    total = s.IntegerField()
    sev1 = s.IntegerField()
    sev2 = s.IntegerField()
    sev3 = s.IntegerField()
    sev4 = s.IntegerField()


class IncidentFigures(s.Serializer):
    open = SeveritySerializer(help_text="Being worked now")
    opened = SeveritySerializer(help_text="Opened in the period")
    mtta_hours = s.FloatField(allow_null=True)
    mttr_hours = s.FloatField(allow_null=True)
    per_deployed_model = s.FloatField(allow_null=True)


class WorkloadSerializer(s.Serializer):
    username = s.CharField()
    name = s.CharField()
    drafting = s.IntegerField(help_text="Own handovers in draft, validation failed or changes requested")
    reviewing = s.IntegerField(help_text="Handovers awaiting their review")
    incidents = s.IntegerField(help_text="Incidents assigned to them and being worked")
    total = s.IntegerField()


class WeekSerializer(s.Serializer):
    week = s.DateField(help_text="The Monday")
    accepted = s.IntegerField()
    lead_time_median_hours = s.FloatField(allow_null=True)
    first_runs = s.IntegerField()
    first_pass_rate = s.FloatField(allow_null=True)
    incidents_opened = SeveritySerializer()


class ProjectFigures(s.Serializer):
    slug = s.CharField()
    name = s.CharField()
    accepted = s.IntegerField()
    lead_time_median_hours = s.FloatField(allow_null=True)
    first_pass_rate = s.FloatField(allow_null=True)
    deployed_models = s.IntegerField()
    open_incidents = s.IntegerField()
    mttr_hours = s.FloatField(allow_null=True)
    monthly_value = s.DecimalField(max_digits=16, decimal_places=2)
    monthly_cost = s.DecimalField(max_digits=16, decimal_places=2)
    value_at_risk = s.DecimalField(max_digits=16, decimal_places=2)
    weekly_accepted = s.ListField(child=s.IntegerField(), help_text="One count per week of the period")


class DashboardSerializer(s.Serializer):
    team = Named()
    project = s.CharField(allow_null=True, help_text="The project filter, or null for all")
    projects = Named(many=True, help_text="The team's projects whose figures you may see")
    period = PeriodSerializer()
    handovers = HandoverFigures()
    validation_failures = FailureSerializer(many=True)
    production = ProductionFigures()
    incidents = IncidentFigures()
    workload = WorkloadSerializer(many=True)
    weekly = WeekSerializer(many=True)
    by_project = ProjectFigures(many=True)
