@ro6
Feature: RO-6 Multi-Series Image Retrieve
  The Archive gives the Contourer several image series of one study.

  @sut_archive @archive @contourer
  Scenario: The Archive under test returns both image series of a study
    Given the Archive under test holds the synthetic CT series and resampled CT series
    When the harness Contourer retrieves the CT series from the Archive under test by C-GET
    Then the harness received the CT objects it gave, unchanged

  @sut_contourer @contourer @archive
  Scenario: The Contourer under test retrieves every image series of a study
    Given the harness Archive holds the synthetic CT series and resampled CT series
    When the Contourer under test performs RO-6
    Then the harness Archive sent the CT objects it holds to the system under test
