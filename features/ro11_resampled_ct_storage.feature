@ro11
Feature: RO-11 Resampled/Combined CT Series Storage
  The Contourer stores a resampled or combined CT series: a new single series
  in the Frame of Reference of its source.

  @sut_contourer @contourer @archive @acts_on_input
  Scenario: The Contourer under test stores a resampled CT series
    Given the harness Archive holds the synthetic CT series
    When the Contourer under test performs RO-11
    Then the harness Archive received CT objects from the system under test
    And every C-STORE from the system under test was answered with Success
    And the received CT objects pass the TRO rules and the standard engines
    And the new CT series has its own Series Instance UID and the source's Frame of Reference

  @sut_archive @archive @contourer
  Scenario: The Archive under test stores a resampled CT series and gives it back unchanged
    Given the Archive under test holds the synthetic CT series
    When the harness Contourer stores the synthetic resampled CT series in the Archive under test
    Then every C-STORE from the harness was answered with Success
    And the Archive under test finds the CT series with a C-FIND at SERIES level
    And the harness retrieves the CT series by C-GET unchanged

  @sut_contourer @contourer @archive @acts_on_input
  Scenario: The Contourer under test combines the series it is given into one and contours it
    Given the harness Archive holds the synthetic CT series and resampled CT series
    When the Contourer under test performs RO-6, RO-11 and RO-2
    Then the harness Archive received CT objects from the system under test
    And the received CT objects pass the TRO rules and the standard engines
    And the new CT series has its own Series Instance UID and the source's Frame of Reference
    And the harness Archive received RTSTRUCT objects from the system under test
    And the received structure set references the new CT series
    And the received RTSTRUCT objects pass the TRO rules and the standard engines
